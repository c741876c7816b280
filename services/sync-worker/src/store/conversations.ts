import { type Executor, schema } from '@switchboard/db';
import { and, eq, ne, sql } from 'drizzle-orm';

const { conversations } = schema;

export interface LiveConversation {
  id: string;
  status: 'open' | 'active' | 'closed';
  genesysConversationId: string | null;
  openedAt: Date;
  version: number;
  created: boolean;
}

const columns = {
  id: conversations.id,
  status: conversations.status,
  genesysConversationId: conversations.genesysConversationId,
  openedAt: conversations.openedAt,
  version: conversations.version,
};

/**
 * The customer's live (not closed) conversation on this channel, created when there is none,
 * and touched for activity. The UPDATE takes the row lock that serializes writers of this
 * conversation and bumps `version`, the fencing token; the partial unique index makes
 * concurrent creators converge: the loser's insert does nothing and its next UPDATE finds the
 * winner's row once that commits.
 */
export async function touchLiveConversation(
  tx: Executor,
  key: { tenantId: string; channelId: string; customerId: string; provider: string },
  activityAt: Date,
): Promise<LiveConversation> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const [touched] = await tx
      .update(conversations)
      .set({
        lastActivityAt: sql`greatest(${conversations.lastActivityAt}, ${activityAt.toISOString()}::timestamptz)`,
        version: sql`${conversations.version} + 1`,
      })
      .where(
        and(
          eq(conversations.channelId, key.channelId),
          eq(conversations.customerId, key.customerId),
          ne(conversations.status, 'closed'),
        ),
      )
      .returning(columns);
    if (touched) return { ...touched, status: touched.status as LiveConversation['status'], created: false };

    const [created] = await tx
      .insert(conversations)
      .values({ ...key, status: 'open', lastActivityAt: activityAt })
      .onConflictDoNothing({
        target: [conversations.channelId, conversations.customerId],
        where: sql`${conversations.status} <> 'closed'`,
      })
      .returning(columns);
    if (created) return { ...created, status: created.status as LiveConversation['status'], created: true };
  }
  throw new Error('live conversation kept changing under us');
}
