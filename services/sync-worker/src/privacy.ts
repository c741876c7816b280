/**
 * Retention and erasure without the rest of the worker: the command line imports this entry
 * (`@switchboard/sync-worker/privacy`), so it starts without the worker's HTTP, queue and phone
 * libraries.
 */
export { type ErasureDeps, type ErasureResult, eraseCustomer, eraseCustomerData } from './erasure/erase.ts';
export { type ArchiveLine, archivePath, readArchive } from './retention/archive-file.ts';
export { expireRetainedData } from './retention/expire.ts';
export { type RestoreResult, restoreArchives } from './retention/restore.ts';
export { readRetentionPolicy, writeRetentionPolicy } from './store/retention-policy.ts';
