import type { Executor } from '@switchboard/db';
import { currentUserId, decideIdentity } from '@switchboard/domain';
import type { Deps } from '../deps.ts';
import { toE164 } from '../phone.ts';
import {
  type CustomerFields,
  type IdentityKeys,
  identityLockKeys,
  insertCustomer,
  linkUserIds,
  lockIdentityMatches,
  updateCustomerFields,
} from '../store/identity.ts';
import { mergeInto } from './customer-merge.ts';
import { domainEvent } from './events.ts';
import type { Effects } from './route.ts';

/**
 * Which customer a WhatsApp observation (a message, an echo, a call, a `user_changed_user_id`
 * notice) is about, linking its ids to that customer, or merging the customers they turn out to
 * share (the rule: `decideIdentity`). The caller holds the advisory locks on the ids
 * (`lockIdentities`); the matches are row-locked here. Everything written only moves forward:
 * ids are added, `superseded` and `merged_into` are set once.
 */

/** What an observation says about the customer. */
export interface SenderIdentity extends CustomerFields {
  userId?: string | undefined;
}

/** A `user_changed_user_id` notice: the same person, a new id. */
export interface IdentityNotice {
  previousUserId: string;
  userId: string;
  previousParentUserId?: string | undefined;
  parentUserId?: string | undefined;
}

export interface Resolved {
  customerId: string;
  /** The customers merged into `customerId` by this observation. */
  merged: string[];
  effects: Effects;
}

export const identityKeysOf = (tenantId: string, s: SenderIdentity, n?: IdentityNotice): IdentityKeys => ({
  tenantId,
  phone: s.phone,
  userIds: [...new Set([s.userId, n?.previousUserId, n?.userId].filter((v): v is string => !!v))],
  parentUserIds: [
    ...new Set([s.parentUserId, n?.previousParentUserId, n?.parentUserId].filter((v): v is string => !!v)),
  ],
});

export async function resolveCustomer(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  tenantId: string,
  sender: SenderIdentity,
  notice: IdentityNotice | undefined,
  cause: { eventId: string; at: Date },
): Promise<Resolved> {
  const matches = await lockIdentityMatches(tx, identityKeysOf(tenantId, sender, notice));
  const d = decideIdentity(matches);
  const effects: Effects = { outbox: [], counts: [] };
  let customerId: string;
  let merged: string[] = [];
  let closedIds: string[] = [];
  const fields = notice?.parentUserId ? { ...sender, parentUserId: notice.parentUserId } : sender;
  switch (d.kind) {
    case 'create':
      customerId = await insertCustomer(tx, tenantId, fields);
      break;
    case 'use':
      customerId = d.customerId;
      await updateCustomerFields(tx, tenantId, customerId, fields, { replaceParent: !!notice?.parentUserId });
      break;
    case 'merge': {
      customerId = d.survivorId;
      merged = d.absorbedIds;
      const m = await mergeInto(tx, deps, tenantId, d.survivorId, d.absorbedIds, cause);
      await updateCustomerFields(tx, tenantId, customerId, fields, { replaceParent: !!notice?.parentUserId });
      effects.counts.push({ metric: 'customersMerged', labels: { provider: 'whatsapp' } }, ...m.effects.counts);
      effects.outbox.push(...m.effects.outbox);
      closedIds = m.closedIds;
      break;
    }
    default: {
      const never: never = d;
      throw new Error(`unhandled identity decision ${JSON.stringify(never)}`);
    }
  }
  await linkUserIds(tx, tenantId, customerId, userIdsOf(sender, notice), currentUserId);
  if (notice || merged.length > 0) {
    effects.outbox.push(identityChanged(deps, tenantId, customerId, notice, { merged, closedIds }, cause.at));
    effects.counts.push({
      metric: 'identityChanges',
      labels: { provider: 'whatsapp', kind: notice ? 'notice' : 'merge' },
    });
  }
  return { customerId, merged, effects };
}

const userIdsOf = (s: SenderIdentity, n: IdentityNotice | undefined) => [
  ...(s.userId && s.userId !== n?.previousUserId ? [{ userId: s.userId, superseded: false }] : []),
  ...(n ? [{ userId: n.previousUserId, superseded: true }] : []),
  ...(n && n.userId !== n.previousUserId ? [{ userId: n.userId, superseded: false }] : []),
];

function identityChanged(
  deps: Pick<Deps, 'names' | 'now'>,
  tenantId: string,
  customerId: string,
  notice: IdentityNotice | undefined,
  { merged, closedIds }: { merged: string[]; closedIds: string[] },
  at: Date,
) {
  // The subject of a customer's event is the customer.
  return domainEvent(
    deps,
    'customer.identity.changed',
    { tenantId, conversationId: customerId },
    {
      customerId,
      provider: 'whatsapp',
      ...(notice ? { userId: notice.userId, previousUserId: notice.previousUserId } : {}),
      ...(notice?.parentUserId ? { parentUserId: notice.parentUserId } : {}),
      ...(notice?.previousParentUserId ? { previousParentUserId: notice.previousParentUserId } : {}),
      ...(merged.length > 0 ? { mergedCustomerIds: merged } : {}),
      ...(closedIds.length > 0 ? { closedConversationIds: closedIds } : {}),
      at: at.toISOString(),
    },
  );
}

/** The customer side of a business observation (echo, history, call) as an identity, or why it names nobody. */
export function peerIdentity(p: {
  phone?: string | undefined;
  userId?: string | undefined;
  parentUserId?: string | undefined;
  username?: string | undefined;
  name?: string | undefined;
}): SenderIdentity | undefined {
  const phone = (p.phone === undefined ? undefined : toE164(p.phone)) ?? undefined;
  if (!phone && !p.userId) return undefined;
  return {
    phone,
    whatsappId: phone ? p.phone : undefined,
    userId: p.userId,
    parentUserId: p.parentUserId,
    username: p.username,
    name: p.name,
  };
}

/** Advisory-lock keys of a batch of identities, for `lockIdentities` and the Redis locks alike. */
export const lockKeysOf = (tenantId: string, identity: SenderIdentity) =>
  identityLockKeys(identityKeysOf(tenantId, identity));
