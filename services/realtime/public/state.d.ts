// Types of state.js for the unit test (the browser loads the plain module).
export interface Chat {
  id: string;
  from?: string;
  text?: string;
  at?: string;
  waitingOnCustomer?: boolean;
}
export interface QueueState {
  waiting: Map<string, Chat>;
  mine: Map<string, Chat>;
}
export interface EventFrame {
  cloudEventType: string;
  data?: Record<string, unknown>;
}
export function emptyQueue(): QueueState;
export function foldQueue(q: QueueState, f: EventFrame, me: string): void;
export function newerStatus(current: string | undefined, next: string): string;
