import { allServicesScenarios } from './all-services.ts';
import { runAssignmentBench } from './assignment.ts';
import { baseline } from './baseline.ts';
import type { Scenario, ScenarioResult } from './context.ts';
import { runConversationReadsBench } from './conversation-reads.ts';
import { dbStatementScenarios } from './db-statements.ts';
import { runEmailBench } from './email.ts';
import { closedLoop, openLoop } from './load.ts';
import { runLookupBench } from './lookups.ts';
import { type Driven, drive } from './pipeline.ts';
import { realtimeScenarios } from './realtime.ts';
import { runStatusSyncBench } from './status-sync.ts';
import { whatsappMixedScenario } from './whatsapp-mixed.ts';

/**
 * Every scenario the bench knows, in the order they run. `--only <name,...>` picks some; a new
 * capability adds its scenario here (lookups, email, assignment) and its target in `report.ts`.
 */
export const scenarios: Scenario[] = [
  {
    name: 'baseline',
    description: 'bare loop: confirmed publish → quorum queue → consumer → batched INSERT, ack after commit',
    run: async (ctx) => {
      const { baselineMessages, baselineWindow } = ctx.options;
      const run = await baseline(ctx, 'max', { messages: baselineMessages, window: baselineWindow });
      return result('baseline', 'bare loop, max throughput', null, run, [
        `${baselineWindow} messages in flight between publish and commit; ack latency = publish → confirm`,
      ]);
    },
  },
  {
    name: 'baseline-rate',
    description: 'the bare loop at a fixed rate (open loop)',
    run: async (ctx) => {
      const { rate, durationS } = ctx.options;
      const messages = Math.round(rate * Math.min(durationS, 5));
      const run = await baseline(ctx, 'rate', { messages, rate });
      return result('baseline-rate', `bare loop at ${rate}/s`, rate, run, [
        `${messages} messages over ${messages / rate} s`,
      ]);
    },
  },
  {
    name: 'pipeline',
    description: 'signed webhooks → ingest → sync-worker → Postgres + outbox → message.received, max throughput',
    run: async (ctx) => {
      const { messages, concurrency } = ctx.options;
      const p = await ctx.pipeline('edge+sync');
      const run = await drive(p, ctx.env, `wamid.bench-${ctx.env.runId}-max`, messages, (client, w) =>
        closedLoop(client, w, concurrency),
      );
      return result('pipeline', 'webhook → event, max throughput', null, run, [
        `${concurrency} webhooks in flight from ${p.customers} senders; ack latency = HTTP answer`,
      ]);
    },
  },
  {
    name: 'pipeline-rate',
    description: 'the pipeline at a fixed rate (open loop), latency percentiles',
    run: async (ctx) => {
      const { rate, durationS } = ctx.options;
      const messages = Math.round(rate * durationS);
      const p = await ctx.pipeline('edge+sync');
      const run = await drive(p, ctx.env, `wamid.bench-${ctx.env.runId}-rate`, messages, (client, w) =>
        openLoop(client, w, rate),
      );
      return result('pipeline-rate', `webhook → event at ${rate}/s`, rate, run, [
        `${messages} webhooks from ${p.customers} senders over ${durationS} s; latency counted from each webhook's due time`,
      ]);
    },
  },
  ...allServicesScenarios,
  {
    name: 'email',
    description: 'signed Mailgun forwards → ingest → sync-worker threading (100,000 prior messages) → message.received',
    run: runEmailBench,
  },
  {
    name: 'status-sync',
    description: 'signed helpdesk webhooks → webhooks edge → sync-worker status sync → conversation.status.changed',
    run: runStatusSyncBench,
  },
  {
    name: 'lookups',
    description:
      'read API lookups (conversation by id / WhatsApp id / Genesys id, history page, phone search), warm cache',
    run: runLookupBench,
  },
  {
    name: 'conversation-reads',
    description:
      'conversation list (each filter, text search), context and status on 1,000,000 messages in 100,000 conversations + 9 tenants; inactivity sweep cost',
    run: runConversationReadsBench,
  },
  {
    name: 'assignment',
    description: 'next-chat with 200 operators at once over 1,000 waiting chats; auto-assign fairness',
    run: runAssignmentBench,
  },
  whatsappMixedScenario,
  ...realtimeScenarios,
  ...dbStatementScenarios,
];

const result = (
  scenario: string,
  description: string,
  offeredRate: number | null,
  run: Driven,
  notes: string[],
): ScenarioResult => ({ scenario, description, offeredRate, ...run, notes });
