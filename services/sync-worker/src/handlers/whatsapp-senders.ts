import type { WhatsAppMessageReceived } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import type { Deps } from '../deps.ts';
import type { Effects } from './route.ts';
import { type IdentityNotice, resolveCustomer } from './whatsapp-identity.ts';
import type { Item } from './whatsapp-sender.ts';

/** A sender known by phone alone: resolved by the set-based upsert, not one by one. */
export const isPhoneOnly = (i: Item) => !i.value.notice && !i.value.identity.userId && !!i.value.identity.phone;

/** The ids of a `user_changed_user_id` system message, when it is one. */
export function noticeOf(m: WhatsAppMessageReceived): IdentityNotice | undefined {
  const s = m.system;
  if (m.type !== 'system' || s?.type !== 'user_changed_user_id' || !s.userId || !s.previousUserId) return undefined;
  return {
    previousUserId: s.previousUserId,
    userId: s.userId,
    previousParentUserId: s.previousParentUserId,
    parentUserId: s.parentUserId,
  };
}

/**
 * Senders with a user id, and notices, through the identity rule one by one in delivery order. A
 * later item can merge an earlier one's customer: `follow` leads any customer id of the batch to
 * the customer it is now.
 */
export async function resolveIdentities(tx: Executor, deps: Deps, items: Item[]) {
  const customers = new Map<Item, string>();
  const effects = new Map<Item, Effects>();
  const mergedInto = new Map<string, string>();
  for (const item of items) {
    if (isPhoneOnly(item)) continue;
    const { channel, identity, notice } = item.value;
    const r = await resolveCustomer(tx, deps, channel.tenantId, identity, notice, {
      eventId: item.event.id,
      at: new Date(item.event.data.sentAt),
    });
    for (const m of r.merged) mergedInto.set(m, r.customerId);
    customers.set(item, r.customerId);
    effects.set(item, r.effects);
  }
  const follow = (id: string): string => {
    let at = id;
    for (let next = mergedInto.get(at); next !== undefined; next = mergedInto.get(at)) at = next;
    return at;
  };
  return { customers, effects, follow };
}
