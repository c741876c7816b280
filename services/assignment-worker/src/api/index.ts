import type { Executor } from '@switchboard/db';
import { type ChatEvent, OPERATOR_RELEASE_REASONS } from '@switchboard/domain';
import { parseRequest, RequestError } from '@switchboard/platform';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { pushFreed } from '../handlers/auto-assign.ts';
import { changeChat } from '../handlers/change-chat.ts';
import { nextChat } from '../handlers/claim.ts';
import { type ChatChange, commitChatChanges } from '../handlers/effects.ts';
import { transferChat } from '../handlers/transfer.ts';
import { type LockedChat, lockChat } from '../store/chat-row.ts';
import { assignmentViews } from './views.ts';

const ChatParams = z.object({ id: z.uuid() });
const OperatorParams = z.object({ id: z.string().min(1).max(200) });
const ReleaseBody = z
  .object({
    reason: z.enum(OPERATOR_RELEASE_REASONS).default('released'),
    /** Free text beside the reason, carried in chat.released. */
    note: z.string().trim().min(1).max(500).optional(),
  })
  .default({ reason: 'released' });
const CompleteBody = z.object({ reason: z.string().min(1).max(200).default('completed by operator') }).default({
  reason: 'completed by operator',
});
const TransferBody = z.object({
  /** The operator who takes the chat: online, below capacity, not barred from it. */
  operatorId: z.string().min(1).max(200),
  note: z.string().trim().min(1).max(500).optional(),
});
const QueueBody = z.object({ queue: z.string().min(1).max(100).nullable() });

/** Operator commands need a token with the `operate` scope; the views need `read` (the default). */
const operate = { config: { scope: 'operate' as const } };

/** Operator commands (answered synchronously) and the queue views, all scoped to the token's tenant. */
export function assignmentRoutes(api: FastifyInstance, deps: Deps): void {
  api.post('/operators/:id/next-chat', operate, async (req, reply) => {
    const { id } = parseRequest(OperatorParams, req.params, 'path');
    const r = await nextChat(deps, req.tenant.id, id);
    switch (r.outcome) {
      case 'assigned':
        return { chatId: r.chatId, assignmentId: r.assignmentId };
      case 'unknown_operator':
        throw new RequestError(404, 'not_found', `no operator ${id}: the agent desk has not reported it`);
      case 'not_online':
        throw new RequestError(409, 'not_online', `operator ${id} is not online`);
      default:
        // None waiting, or at capacity: nothing fits this operator now.
        reply.header('x-switchboard-reason', r.outcome);
        return reply.code(204).send();
    }
  });

  api.post('/chats/:id/release', operate, async (req) => {
    const { reason, note } = parseRequest(ReleaseBody, req.body ?? undefined, 'body');
    return chatCommand(deps, req, () => ({ kind: 'release', reason, at: deps.now(), ...(note ? { note } : {}) }));
  });
  // Stamped with Postgres's clock: a customer message recorded after it (same clock) reopens the chat.
  api.post('/chats/:id/complete', operate, async (req) => {
    const { reason } = parseRequest(CompleteBody, req.body ?? undefined, 'body');
    return chatCommand(deps, req, (locked) => ({ kind: 'complete', reason, at: locked.dbNow }));
  });
  // To a named operator, atomically: released (`transfer`) and assigned in one transaction, or neither.
  api.post('/chats/:id/transfer', operate, async (req) => {
    const { id } = parseRequest(ChatParams, req.params, 'path');
    const body = parseRequest(TransferBody, req.body, 'body');
    const target = { id, tenantId: req.tenant.id };
    const { result } = await commitChatChanges(deps, target.tenantId, async (tx: Executor) => {
      const applied = await transferChat(tx, deps, target, body);
      return { result: applied, applied: applied ?? [] };
    });
    if (!result) throw new RequestError(404, 'not_found', `no chat ${id}`);
    return { chatId: id, state: 'assigned', operatorId: body.operatorId };
  });
  // The agent desk routes a chat to a queue: only operators with that skill may take it from now on.
  api.post('/chats/:id/queue', operate, async (req) => {
    const { queue } = parseRequest(QueueBody, req.body, 'body');
    return chatCommand(deps, req, () => ({ kind: 'route', queue, at: deps.now() }));
  });

  assignmentViews(api, deps);
}

/**
 * One command on one chat in one transaction: `404` (nothing written) for a chat this tenant does
 * not have, `409` when its state refuses the command. On auto-assign tenants what it freed is
 * handed out in the same transaction (a released chat to another operator).
 */
async function chatCommand(deps: Deps, req: FastifyRequest, event: (locked: LockedChat) => ChatEvent) {
  const { id } = parseRequest(ChatParams, req.params, 'path');
  const target = { id, tenantId: req.tenant.id };
  const { result } = await commitChatChanges(deps, target.tenantId, async (tx: Executor) => {
    const locked = await lockChat(tx, id, target.tenantId);
    if (!locked) return { result: null, applied: [] as ChatChange[] };
    const a = await changeChat(tx, deps, target, event(locked), { locked });
    return { result: a, applied: a.ok ? [a, ...(await pushFreed(tx, deps, target.tenantId, [a]))] : [] };
  });
  if (!result) throw new RequestError(404, 'not_found', `no chat ${id}`);
  if (!result.ok) throw new RequestError(409, 'conflict', result.reason ?? 'not allowed');
  return { chatId: id, state: result.chat?.state, queue: result.chat?.queue ?? null };
}
