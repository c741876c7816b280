export * from './cloudevent.ts';
export * from './domain-events.ts';
export * from './event-id.ts';
export * from './inbound.ts';
export * from './inbound-agent-desk.ts';
export * from './inbound-events.ts';
export * from './inbound-mailgun.ts';
export * from './lead-events.ts';
