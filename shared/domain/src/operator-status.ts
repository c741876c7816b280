/** An operator's presence as the agent desk reports it (seed 004). Only `online` takes new chats. */
export const OPERATOR_STATUSES = ['online', 'away', 'offline'] as const;
export type OperatorStatus = (typeof OPERATOR_STATUSES)[number];
