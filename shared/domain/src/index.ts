export * from './conversation-status.ts';
export * from './delivery-status.ts';
