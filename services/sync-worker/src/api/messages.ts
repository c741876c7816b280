import { parseRequest, RequestError } from '@switchboard/platform';
import { unitOfWork } from '@switchboard/worker';
import { z } from 'zod';
import { recordDispatch } from '../handlers/message-dispatched.ts';
import type { ApiRoutes } from './area.ts';

const Params = z.object({ id: z.uuid() });
const DispatchBody = z.object({
  /** The provider's id for the message (WhatsApp: the `wamid` Meta returned to the sender). */
  providerMessageId: z.string().max(500).regex(/^\S+$/, 'a non-empty id without whitespace'),
  /** When the sender handed the message to the provider; now when absent. */
  sentAt: z.iso.datetime({ offset: true }).optional(),
});

/**
 * Postgres breaks a lock cycle (a batch holding this message's row and waiting for the provider
 * id's lock this request holds) by aborting one side; this side simply tries again.
 */
async function retryDeadlock<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || (err as { code?: unknown }).code !== '40P01') throw err;
    }
  }
}

/**
 * The downstream sender's side of `message.outbound.requested`: it reports the id the provider
 * gave the message it delivered, so the provider's statuses for that id reach the message.
 */
export const messageRoutes: ApiRoutes = (api, deps) => {
  api.post('/messages/:id/dispatched', { config: { scope: 'operate' } }, async (req) => {
    const { id } = parseRequest(Params, req.params, 'path');
    const body = parseRequest(DispatchBody, req.body, 'body');
    const dispatch = {
      providerMessageId: body.providerMessageId,
      sentAt: body.sentAt ? new Date(body.sentAt) : deps.now(),
    };
    // Once committed (a deadlocked attempt rolled back and counted nothing): its counts, and the
    // read cache told what it touched (deps.beforeCommit).
    const result = await retryDeadlock(() =>
      unitOfWork(
        deps,
        async (unit) => {
          const r = await recordDispatch(unit.tx, deps, req.tenant.id, id, dispatch);
          if (r.kind === 'dispatched') unit.record(r);
          return r;
        },
        { tenantId: req.tenant.id },
      ),
    );
    switch (result.kind) {
      case 'not_found':
        throw new RequestError(404, 'not_found', `no outbound message ${id}`);
      case 'conflict':
        throw new RequestError(409, 'conflict', result.message);
      case 'dispatched':
        return {
          messageId: id,
          provider: result.provider,
          providerMessageId: dispatch.providerMessageId,
          recorded: result.recorded,
          deliveryStatus: result.status,
          statusEvents: result.outbox.length,
        };
      default: {
        const never: never = result;
        throw new Error(`unhandled dispatch result ${JSON.stringify(never)}`);
      }
    }
  });
};
