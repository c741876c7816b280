export * from './client.ts';
export * from './inbox.ts';
export * from './migrate.ts';
export * from './outbox.ts';
export * from './relay.ts';
export * as schema from './schema/index.ts';
export * from './seed.ts';
export * from './text.ts';
export * from './transaction.ts';
