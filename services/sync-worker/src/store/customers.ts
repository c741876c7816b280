import { type Executor, schema } from '@switchboard/db';
import { and, eq, sql } from 'drizzle-orm';

const { customers } = schema;

export interface CustomerInput {
  tenantId: string;
  phoneE164: string;
  whatsappId?: string;
  name?: string;
}

/**
 * Finds the tenant's customer with this phone number or creates it; concurrent callers converge
 * on one row through the (tenant, phone) unique index. A known customer is only written when the
 * profile name changed, so a busy customer's messages do not contend on their row.
 */
export async function upsertCustomer(tx: Executor, input: CustomerInput): Promise<{ id: string }> {
  const [existing] = await tx
    .select({ id: customers.id, name: customers.name })
    .from(customers)
    .where(and(eq(customers.tenantId, input.tenantId), eq(customers.phoneE164, input.phoneE164)));
  if (existing && (input.name === undefined || existing.name === input.name)) return { id: existing.id };

  const [row] = await tx
    .insert(customers)
    .values({
      tenantId: input.tenantId,
      phoneE164: input.phoneE164,
      whatsappId: input.whatsappId ?? null,
      name: input.name ?? null,
    })
    .onConflictDoUpdate({
      target: [customers.tenantId, customers.phoneE164],
      targetWhere: sql`${customers.phoneE164} is not null`,
      set: {
        name: sql`coalesce(excluded.name, ${customers.name})`,
        whatsappId: sql`coalesce(excluded.whatsapp_id, ${customers.whatsappId})`,
        updatedAt: sql`now()`,
      },
    })
    .returning({ id: customers.id });
  if (!row) throw new Error('customer upsert returned no row');
  return row;
}
