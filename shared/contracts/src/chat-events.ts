import { RELEASE_REASONS } from '@switchboard/domain';
import { z } from 'zod';

/**
 * Assignment domain events (seed 004), published by the assignment-worker through the outbox. The
 * subject is the conversation (the chat's id); `assignmentId` ties an assignment to its release.
 */
export const ChatAssigned = z.object({
  chatId: z.uuid(),
  operatorId: z.string(),
  assignmentId: z.number().int().positive(),
  /**
   * `pull`: the operator asked for the next chat; `auto`: auto-assign pushed it; `transfer`: the
   * operator who had it handed it to this one (`POST /chats/:id/transfer`).
   */
  mode: z.enum(['pull', 'auto', 'transfer']),
  /** How long the customer waited for this assignment (0 for a transfer: the chat never went back to the queue). */
  waitedMs: z.number().int().min(0),
  /** A transfer's: the operator who handed the chat over. */
  fromOperatorId: z.string().optional(),
  /** A transfer's: the note the operator gave with it. */
  note: z.string().optional(),
  at: z.iso.datetime({ offset: true }),
});
export type ChatAssigned = z.infer<typeof ChatAssigned>;
export type AssignMode = ChatAssigned['mode'];

export const ChatReleased = z.object({
  chatId: z.uuid(),
  operatorId: z.string(),
  assignmentId: z.number().int().positive(),
  /**
   * replied, completed, idle, operator_offline (the system's), or the reason an operator gave when
   * releasing it: released, transfer, wrong_queue, manual_fix.
   */
  reason: z.enum(RELEASE_REASONS),
  /** The operator's free text beside the reason, when given. */
  note: z.string().optional(),
  /**
   * A transfer's release: the operator the chat went to. The `chat.assigned` published with it
   * (mode `transfer`) moves the conversation; this release does not hand it back to the queue.
   */
  toOperatorId: z.string().optional(),
  at: z.iso.datetime({ offset: true }),
});
export type ChatReleased = z.infer<typeof ChatReleased>;

/**
 * The chat completed: its conversation closed (final), an operator completed it, or it waited on
 * the customer too long (`stuck`). The last two reopen when the customer writes after them.
 */
export const ChatCompleted = z.object({
  chatId: z.uuid(),
  reason: z.string(),
  at: z.iso.datetime({ offset: true }),
});
export type ChatCompleted = z.infer<typeof ChatCompleted>;
