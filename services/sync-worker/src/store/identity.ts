import { type Executor, pgSafe } from '@switchboard/db';
import { sql } from 'drizzle-orm';

/**
 * WhatsApp customer identity, the SQL: who the ids of an observation lead to, and the forward-only
 * writes that link ids to a customer or merge two customers into one. Rows out; the decision is
 * `decideIdentity` (shared/domain), the events are the handler's.
 */

const p = (v: unknown[]) => sql.param(v);

/** The ids an observation names; any may be missing (not all). */
export interface IdentityKeys {
  tenantId: string;
  /** E.164. */
  phone?: string | undefined;
  /** Business-scoped user ids: the sender's, or a notice's previous and new one. */
  userIds: string[];
  parentUserIds: string[];
}

/** The advisory-lock keys of an identity: every writer that links these ids holds them first. */
export const identityLockKeys = (k: IdentityKeys): string[] => [
  ...(k.phone ? [`${k.tenantId}:phone:${k.phone}`] : []),
  ...k.userIds.map((u) => `${k.tenantId}:uid:${u}`),
  ...k.parentUserIds.map((u) => `${k.tenantId}:puid:${u}`),
];

/**
 * Transaction-scoped advisory locks on these keys, all in one statement and one order, so two
 * transactions linking overlapping ids serialize instead of racing (and never deadlock on them).
 */
export async function lockIdentities(tx: Executor, keys: string[]): Promise<void> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return;
  await tx.execute(sql`
    select pg_advisory_xact_lock(hashtextextended(k, 19)) from (select unnest(${p(sorted)}::text[]) as k order by 1) s`);
}

export interface CustomerMatch {
  id: string;
  createdAt: Date;
}

/** The live (never merged) customers any of these ids lead to, row-locked in id order. */
export async function lockIdentityMatches(tx: Executor, k: IdentityKeys): Promise<CustomerMatch[]> {
  const res = await tx.execute<{ id: string; created_at: Date }>(sql`
    select c.id, c.created_at from customers c
     where c.tenant_id = ${k.tenantId} and c.merged_into is null
       and ((${k.phone ?? null}::text is not null and c.phone_e164 = ${k.phone ?? null})
         or c.whatsapp_parent_user_id = any(${p(k.parentUserIds)}::text[])
         or c.whatsapp_user_id = any(${p(k.userIds)}::text[])
         or c.id in (select u.customer_id from customer_whatsapp_user_ids u
                      where u.tenant_id = ${k.tenantId} and u.user_id = any(${p(k.userIds)}::text[])))
     order by c.id
       for update`);
  return res.rows.map((r) => ({ id: r.id, createdAt: new Date(r.created_at) }));
}

export interface CustomerFields {
  phone?: string | undefined;
  whatsappId?: string | undefined;
  parentUserId?: string | undefined;
  username?: string | undefined;
  name?: string | undefined;
}

/** A new customer with these fields; its username is taken from whoever had it (a username moves). */
export async function insertCustomer(tx: Executor, tenantId: string, f: CustomerFields): Promise<string> {
  if (f.username) await releaseUsername(tx, tenantId, f.username, null);
  const res = await tx.execute<{ id: string }>(sql`
    insert into customers (tenant_id, phone_e164, whatsapp_id, whatsapp_parent_user_id, whatsapp_username, name)
    values (${tenantId}, ${f.phone ?? null}, ${f.whatsappId ?? null}, ${f.parentUserId ?? null},
            ${f.username ?? null}, ${pgSafe(f.name ?? null)})
    returning id`);
  return (res.rows[0] as { id: string }).id;
}

/**
 * Fills what the customer lacks (phone, WhatsApp id, parent id, name) and takes the latest
 * username. `parentUserId` of a notice replaces the old one (`replaceParent`); a message's only
 * fills a gap, so a late message under the old id cannot move it back.
 */
export async function updateCustomerFields(
  tx: Executor,
  tenantId: string,
  customerId: string,
  f: CustomerFields,
  opts: { replaceParent?: boolean } = {},
): Promise<void> {
  if (f.username) await releaseUsername(tx, tenantId, f.username, customerId);
  const parent = opts.replaceParent
    ? sql`${f.parentUserId ?? null}::text`
    : sql`coalesce(whatsapp_parent_user_id, ${f.parentUserId ?? null}::text)`;
  await tx.execute(sql`
    update customers set
      phone_e164 = coalesce(phone_e164, ${f.phone ?? null}::text),
      whatsapp_id = coalesce(whatsapp_id, ${f.whatsappId ?? null}::text),
      whatsapp_parent_user_id = ${parent},
      whatsapp_username = coalesce(${f.username ?? null}::text, whatsapp_username),
      name = coalesce(${pgSafe(f.name ?? null)}::text, name),
      updated_at = now()
     where id = ${customerId} and tenant_id = ${tenantId}
       and (phone_e164 is distinct from coalesce(phone_e164, ${f.phone ?? null}::text)
         or whatsapp_id is distinct from coalesce(whatsapp_id, ${f.whatsappId ?? null}::text)
         or whatsapp_parent_user_id is distinct from ${parent}
         or whatsapp_username is distinct from coalesce(${f.username ?? null}::text, whatsapp_username)
         or name is distinct from coalesce(${pgSafe(f.name ?? null)}::text, name))`);
}

/** A username names one customer: whoever else had it gave it up. */
async function releaseUsername(tx: Executor, tenantId: string, username: string, keeper: string | null) {
  await tx.execute(sql`
    update customers set whatsapp_username = null, updated_at = now()
     where tenant_id = ${tenantId} and whatsapp_username = ${username} and id is distinct from ${keeper}::uuid`);
}

/**
 * Records user ids as the customer's (an id another customer held was moved by the merge before
 * this), `superseded` for those a notice named as previous (set once, never cleared), then sets
 * the customer's current id from all of them (`pick`, the domain's `currentUserId`).
 */
export async function linkUserIds(
  tx: Executor,
  tenantId: string,
  customerId: string,
  ids: Array<{ userId: string; superseded: boolean }>,
  pick: (ids: Array<{ userId: string; superseded: boolean }>) => string | undefined,
): Promise<void> {
  if (ids.length > 0) {
    await tx.execute(sql`
      insert into customer_whatsapp_user_ids (tenant_id, user_id, customer_id, superseded)
      select ${tenantId}, u, ${customerId}, s from unnest(${p(ids.map((i) => i.userId))}::text[],
                                                         ${p(ids.map((i) => i.superseded))}::boolean[]) as v(u, s)
      on conflict (tenant_id, user_id) do update
        set superseded = customer_whatsapp_user_ids.superseded or excluded.superseded
      where excluded.superseded and not customer_whatsapp_user_ids.superseded`);
  }
  const all = await tx.execute<{ user_id: string; superseded: boolean }>(sql`
    select user_id, superseded from customer_whatsapp_user_ids where tenant_id = ${tenantId} and customer_id = ${customerId}`);
  const current = pick(all.rows.map((r) => ({ userId: r.user_id, superseded: r.superseded }))) ?? null;
  await tx.execute(sql`
    update customers set whatsapp_user_id = ${current}, updated_at = now()
     where id = ${customerId} and whatsapp_user_id is distinct from ${current}`);
}
