import { signTimestamped } from '@switchboard/platform';

export const DEV_AGENT_DESK_SECRET = 'dev-agent-desk-secret';
export const DEV_AGENT_DESK_ACCOUNT = 'dev-agent-desk';
export const DEV_HELPDESK_SECRET = 'dev-helpdesk-secret';
export const DEV_HELPDESK_ACCOUNT = 'dev-helpdesk';

/**
 * A request body and headers signed with the helpdesk/agent-desk scheme
 * (`X-Signature-256` over `<X-Timestamp>.<body>`). `at` sets the timestamp (default: now).
 */
export function signedTimestamped(payload: unknown, secret: string, at: Date = new Date()) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const timestamp = String(Math.floor(at.getTime() / 1000));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-timestamp': timestamp,
      'x-signature-256': signTimestamped(body, secret, timestamp),
    },
  };
}

let deskSeq = 0;

/** An agent-desk webhook of `type` for the dev desk, with a fresh delivery id unless given. */
export function agentDeskEvent(type: string, data: Record<string, unknown>, over: { id?: string; at?: Date } = {}) {
  deskSeq += 1;
  return {
    id: over.id ?? `desk-evt-${process.pid}-${Date.now()}-${deskSeq}`,
    type,
    occurredAt: (over.at ?? new Date()).toISOString(),
    accountId: DEV_AGENT_DESK_ACCOUNT,
    data,
  };
}

export const signedAgentDesk = (payload: unknown, at?: Date) => signedTimestamped(payload, DEV_AGENT_DESK_SECRET, at);

/** A helpdesk ticket webhook of `type` for the dev helpdesk, with a fresh delivery id unless given. */
export function helpdeskEvent(type: string, data: Record<string, unknown>, over: { id?: string; at?: Date } = {}) {
  deskSeq += 1;
  return {
    id: over.id ?? `hd-evt-${process.pid}-${Date.now()}-${deskSeq}`,
    type,
    occurredAt: (over.at ?? new Date()).toISOString(),
    accountId: DEV_HELPDESK_ACCOUNT,
    data,
  };
}

export const signedHelpdesk = (payload: unknown, at?: Date) => signedTimestamped(payload, DEV_HELPDESK_SECRET, at);
