export * from './analytics.ts';
export * from './assignment.ts';
export * from './conversations.ts';
export * from './email-leads.ts';
export * from './media-secrets.ts';
export * from './messaging.ts';
export * from './status.ts';
export * from './tenancy.ts';
