import { type Database, findTenantId } from '@switchboard/db';
import { CliError } from './errors.ts';

/** The tenant's id, or a one-line error naming the slug that does not exist. */
export async function requireTenant(db: Database, slug: string): Promise<string> {
  const id = await findTenantId(db, slug);
  if (!id) throw new CliError(`no tenant ${slug} (see: switchboard tenants list)`);
  return id;
}
