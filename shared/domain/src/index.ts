export * from './conversation-status.ts';
export * from './delivery-status.ts';
export * from './operator-status.ts';
