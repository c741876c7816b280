import { z } from 'zod';

/**
 * Assignment domain events (seed 004), published by the assignment-worker through the outbox. The
 * subject is the conversation (the chat's id); `assignmentId` ties an assignment to its release.
 */
export const ChatAssigned = z.object({
  chatId: z.uuid(),
  operatorId: z.string(),
  assignmentId: z.number().int().positive(),
  /** `pull`: the operator asked for the next chat; `auto`: auto-assign pushed it. */
  mode: z.enum(['pull', 'auto']),
  /** How long the customer waited for this assignment. */
  waitedMs: z.number().int().min(0),
  at: z.iso.datetime({ offset: true }),
});
export type ChatAssigned = z.infer<typeof ChatAssigned>;

export const ChatReleased = z.object({
  chatId: z.uuid(),
  operatorId: z.string(),
  assignmentId: z.number().int().positive(),
  /** replied, released, idle, completed, operator_offline. */
  reason: z.string(),
  at: z.iso.datetime({ offset: true }),
});
export type ChatReleased = z.infer<typeof ChatReleased>;

export const ChatCompleted = z.object({
  chatId: z.uuid(),
  reason: z.string(),
  at: z.iso.datetime({ offset: true }),
});
export type ChatCompleted = z.infer<typeof ChatCompleted>;
