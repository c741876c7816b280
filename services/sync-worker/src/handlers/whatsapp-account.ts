import { WhatsAppAccountUpdated } from '@switchboard/contracts';
import { done, park } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import { channelOfBusinessAccount } from '../store/business-accounts.ts';
import { domainEvent } from './events.ts';
import { route } from './route.ts';

/**
 * An account-level WhatsApp webhook (`account_update`, template status and quality, capability,
 * alerts, …), published for downstream as `whatsapp.account.changed` (subject: the channel) and
 * counted by field. Its
 * tenant is the one of the number it names, else of its WABA (learned from the WABA's messages,
 * store/business-accounts.ts); a WABA no message has named yet cannot be attributed, so its
 * change is parked (kept whole, replayable), never guessed.
 */
export const whatsappAccountRoute = route<WhatsAppAccountUpdated, { channel: Channel }>({
  schema: WhatsAppAccountUpdated,
  async prepare(deps, event) {
    const a = event.data;
    const accountId = a.accountId ?? (await channelOfBusinessAccount(deps.db, a.businessAccountId))?.account_id;
    if (!accountId) {
      return {
        ok: false,
        outcome: park(`unknown_business_account: no channel has named WABA ${a.businessAccountId} yet`, {
          provider: 'whatsapp',
        }),
      };
    }
    const channel = await activeChannel(deps, 'whatsapp', accountId);
    return channel.ok ? { ok: true, value: { channel: channel.value } } : channel;
  },
  lockKeys: () => [],
  async apply(_tx, deps, items) {
    return items.map(({ event, value }) => {
      const a = event.data;
      // The subject of an account's event is the channel (business number) it reached the tenant by.
      const meta = { tenantId: value.channel.tenantId, conversationId: value.channel.id };
      return {
        outcome: done,
        outbox: [
          domainEvent(deps, 'whatsapp.account.changed', meta, {
            field: a.field,
            businessAccountId: a.businessAccountId,
            ...(a.accountId ? { accountId: a.accountId } : {}),
            ...(a.event ? { event: a.event } : {}),
            value: a.value,
            receivedAt: a.receivedAt,
          }),
        ],
        counts: [{ metric: 'accountChanges', labels: { field: a.field } }],
      };
    });
  },
});
