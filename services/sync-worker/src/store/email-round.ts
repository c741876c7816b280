import { type Executor, pgSafe } from '@switchboard/db';
import { type SQL, sql } from 'drizzle-orm';

/**
 * Set-based statements for a round of inbound emails of one tenant: one statement per step,
 * whatever the round's size. A round holds at most one email per sender address, so no two of
 * its emails share a customer (customers are unique by address), and its results are those of
 * applying the emails one after another. Arrays go in as single parameters; rows come back with
 * their input's position (`k`, from 1).
 */

const p = (v: unknown[]) => sql.param(v);

export interface EmailSender {
  /** The email's Message-ID: a copy of an email already stored touches no customer. */
  messageIdHeader: string;
  email: string;
  name: string | null;
}

/**
 * Each new email's customer by address, created when missing (concurrent creators converge on the
 * unique index) and row-locked (`for no key update`, as an upsert would), named when the email
 * brings a name the customer lacks, and the lock that serializes the threading of that customer's
 * emails taken (transaction-scoped advisory lock: statements after this see what its previous
 * holder committed). Null for an email whose Message-ID is stored: no customer touched or locked.
 * The caller holds the emails' message locks, so a copy that committed first is seen here.
 *
 * Known customers are read, locked and not written (an update that changes nothing still writes a
 * row version and fires the lookup-cache triggers); only the missing go through an upsert, and only
 * the unnamed get a name. Rows are locked in address order, the created ones after the found.
 */
export async function customersOfNewEmails(
  tx: Executor,
  tenantId: string,
  senders: EmailSender[],
): Promise<Array<string | null>> {
  const out: Array<string | null> = senders.map(() => null);
  const missing: number[] = [];
  const unnamed: Array<{ id: string; name: string }> = [];
  for (const r of await lockKnownCustomers(tx, tenantId, senders)) {
    const name = senders[r.k - 1]?.name ?? null;
    if (r.stored) continue;
    if (r.id === null) missing.push(r.k - 1);
    else {
      out[r.k - 1] = r.id;
      if (r.name === null && name !== null) unnamed.push({ id: r.id, name });
    }
  }
  if (unnamed.length > 0) await nameCustomers(tx, unnamed);
  if (missing.length === 0) return out;
  const wanted = missing.map((i) => senders[i] as EmailSender);
  const created = new Map((await createCustomers(tx, tenantId, wanted)).map((r) => [r.email, r.id]));
  for (const i of missing) {
    const id = created.get((senders[i] as EmailSender).email);
    if (!id) throw new Error('customer upsert returned nothing');
    out[i] = id;
  }
  return out;
}

/** The lock that serializes the threading of one customer's emails (taken with its row, by every email path). */
export const customerLock = (tenantId: string, id: SQL) =>
  sql`pg_advisory_xact_lock(hashtextextended('email-customer/' || ${tenantId} || '/' || ${id}, 0))`;

/**
 * Whether each email is stored, and for those that are not, the customer with its address,
 * row-locked, with its customer lock: one probe of each unique index per email (`offset 0` keeps
 * the lateral subqueries from being flattened into joins the planner may turn into scans).
 */
async function lockKnownCustomers(tx: Executor, tenantId: string, senders: EmailSender[]) {
  const res = await tx.execute<{ k: number; stored: boolean; id: string | null; name: string | null }>(sql`
    select v.k::int as k, v.stored, c.id, c.name
      from (select v.*, exists (select 1 from messages m
                                 where m.tenant_id = ${tenantId} and m.provider = 'mailgun' and m.provider_message_id = v.mid) as stored
              from unnest(${p(senders.map((s) => s.email))}::text[], ${p(senders.map((s) => s.messageIdHeader))}::text[])
                   with ordinality as v(email, mid, k)
             order by v.email offset 0) v
      left join lateral (
        select f.id, f.name
          from (select id, name from customers
                 where tenant_id = ${tenantId} and email = v.email and not v.stored offset 0 for no key update) f,
               lateral (select ${customerLock(tenantId, sql`f.id`)}) l
      ) c on true`);
  return res.rows.map((r) => ({ ...r, k: Number(r.k) }));
}

/** The first name seen sticks: only a customer still without one is named. */
async function nameCustomers(tx: Executor, rows: Array<{ id: string; name: string }>): Promise<void> {
  await tx.execute(sql`
    update customers c set name = v.name
      from unnest(${p(rows.map((r) => r.id))}::uuid[], ${p(rows.map((r) => pgSafe(r.name)))}::text[]) as v(id, name)
     where c.id = v.id and c.name is null`);
}

/** Customers for addresses not found, each with its customer lock; one inserted meanwhile is met by the conflict arm. */
async function createCustomers(tx: Executor, tenantId: string, senders: EmailSender[]) {
  const res = await tx.execute<{ id: string; email: string }>(sql`
    with created as (
      insert into customers (tenant_id, email, name)
      select ${tenantId}::uuid, v.email, v.name
        from unnest(${p(senders.map((s) => s.email))}::text[], ${p(senders.map((s) => pgSafe(s.name)))}::text[]) as v(email, name)
       order by v.email
      on conflict (tenant_id, email) where email is not null
        do update set name = coalesce(customers.name, excluded.name)
      returning id, email
    )
    select c.id, c.email from (select * from created order by email offset 0) c, lateral (select ${customerLock(tenantId, sql`c.id`)}) l`);
  return res.rows;
}

export interface ThreadHit {
  messageId: string;
  conversationId: string;
  messageIdHeader: string;
}

type HitRow = { k: number; message_id: string; conversation_id: string; message_id_header: string };
const hitsByPosition = (n: number, rows: HitRow[]): Array<ThreadHit | null> => {
  const out: Array<ThreadHit | null> = Array.from({ length: n }, () => null);
  for (const r of rows)
    out[Number(r.k) - 1] = {
      messageId: r.message_id,
      conversationId: r.conversation_id,
      messageIdHeader: r.message_id_header,
    };
  return out;
};

/**
 * For each (customer, ancestor chain), the nearest ancestor that customer's threads hold: the last
 * id of the chain stored for (tenant, customer), the earliest copy if several. Ids other customers
 * hold are invisible, so a stranger citing someone's thread starts a thread of their own.
 */
export async function findThreadAncestors(
  tx: Executor,
  tenantId: string,
  wanted: Array<{ customerId: string; chain: string[] }>,
): Promise<Array<ThreadHit | null>> {
  const links = wanted.flatMap((w, i) => w.chain.map((id, pos) => ({ k: i + 1, customerId: w.customerId, id, pos })));
  if (links.length === 0) return wanted.map(() => null);
  const res = await tx.execute<HitRow>(sql`
    select distinct on (c.k) c.k, em.message_id, em.conversation_id, em.message_id_header
      from unnest(${p(links.map((l) => l.k))}::int[], ${p(links.map((l) => l.customerId))}::uuid[],
                  ${p(links.map((l) => l.id))}::text[], ${p(links.map((l) => l.pos))}::int[]) as c(k, customer_id, id, pos)
      cross join lateral (
        select message_id, conversation_id, message_id_header, sent_at from email_messages
         where tenant_id = ${tenantId} and customer_id = c.customer_id and message_id_header = c.id offset 0) em
     order by c.k, c.pos desc, em.sent_at asc`);
  return hitsByPosition(wanted.length, res.rows);
}

/**
 * The subject fallback, for each (customer, normalized subject, since): that customer's most
 * recent email message with the same normalized subject, in a conversation that is not closed,
 * sent at `since` or later. An empty subject matches nothing.
 */
export async function findBySubjects(
  tx: Executor,
  tenantId: string,
  wanted: Array<{ customerId: string; normalizedSubject: string; since: Date }>,
): Promise<Array<ThreadHit | null>> {
  const asked = wanted.map((w, i) => ({ ...w, k: i + 1 })).filter((w) => w.normalizedSubject !== '');
  if (asked.length === 0) return wanted.map(() => null);
  const res = await tx.execute<HitRow>(sql`
    select v.k, s.message_id, s.conversation_id, s.message_id_header
      from unnest(${p(asked.map((w) => w.k))}::int[], ${p(asked.map((w) => w.customerId))}::uuid[],
                  ${p(asked.map((w) => w.normalizedSubject))}::text[],
                  ${p(asked.map((w) => w.since.toISOString()))}::timestamptz[]) as v(k, customer_id, subject, since)
      cross join lateral (
        select em.message_id, em.conversation_id, em.message_id_header
          from email_messages em join conversations c on c.id = em.conversation_id
         where em.tenant_id = ${tenantId} and em.customer_id = v.customer_id
           and em.normalized_subject = v.subject and em.sent_at >= v.since and c.status <> 'closed'
         order by em.sent_at desc
         limit 1) s`);
  return hitsByPosition(wanted.length, res.rows);
}
