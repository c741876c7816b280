export * from './conversation-status.ts';
export * from './delivery-status.ts';
export * from './email-thread-tree.ts';
export * from './email-threading.ts';
export * from './lead-journey.ts';
export * from './lead-state.ts';
export * from './lead-validation.ts';
export * from './operator-status.ts';
