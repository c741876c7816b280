export * from './conversations.ts';
export * from './messaging.ts';
export * from './tenancy.ts';
