import { readFileSync } from 'node:fs';
import specs from '@asyncapi/specs';
import {
  amqpProperties,
  CLOUDEVENTS_CONTENT_TYPE,
  CloudEvent,
  domainEvents,
  domainEventType,
  inboundEvents,
  inboundType,
  ParkedPayload,
  parkedRoutingKey,
} from '@switchboard/contracts';
import { switchboardTopology, topicMatches } from '@switchboard/platform';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * asyncapi.yaml is the event contract downstream consumers read; shared/contracts is what the code
 * enforces. This holds the two together: the document is valid AsyncAPI 3.0, documents exactly
 * the exchanges, routing keys and queues the code declares, and each payload's `data` schema is
 * the zod schema's JSON Schema.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
function obj(v: unknown, what: string): Obj {
  if (!isObj(v)) throw new Error(`${what} is not an object`);
  return v;
}

const raw = obj(parse(readFileSync(new URL('../../asyncapi.yaml', import.meta.url), 'utf8')), 'asyncapi.yaml');

function resolve(ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => {
      if (!isObj(node) || !(key in node)) throw new Error(`dangling reference ${ref}`);
      return node[key];
    }, raw);
}

/** The document with every `$ref` replaced by its target (throws on a dangling one). */
function deref(node: unknown, depth = 0): unknown {
  if (depth > 50) throw new Error('reference cycle');
  if (Array.isArray(node)) return node.map((n) => deref(n, depth + 1));
  if (!isObj(node)) return node;
  if (typeof node.$ref === 'string') return deref(resolve(node.$ref), depth + 1);
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, deref(v, depth + 1)]));
}
const doc = obj(deref(raw), 'asyncapi.yaml');

/** Keywords whose value is a map of schemas keyed by name: the names are data, not keywords. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);
/** Keywords whose value is data, compared as written. */
const VALUES = new Set(['const', 'enum', 'default']);
/** Documentation only: the document may explain what zod does not say. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'examples']);
const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

/**
 * One JSON Schema dialect for both sides. Drops annotations; drops zod's `pattern` next to a
 * `format` (its regex for the same format: the format is the contract); drops
 * `propertyNames: {type: string}` (JSON keys are strings); reads `additionalProperties: {}` as
 * `true`; sorts the unordered lists (type, required, enum, anyOf, oneOf).
 */
function normalize(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalize);
  if (!isObj(node)) return node;
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    if (ANNOTATIONS.has(k) || k.startsWith('x-')) continue;
    if (VALUES.has(k)) out[k] = v;
    else if (SCHEMA_MAPS.has(k))
      out[k] = Object.fromEntries(Object.entries(obj(v, k)).map(([p, s]) => [p, normalize(s)]));
    else out[k] = normalize(v);
  }
  if ('format' in out) delete out.pattern;
  if (JSON.stringify(out.propertyNames) === '{"type":"string"}') delete out.propertyNames;
  if (isObj(out.additionalProperties) && Object.keys(out.additionalProperties).length === 0) {
    out.additionalProperties = true;
  }
  for (const k of ['type', 'required', 'enum']) if (Array.isArray(out[k])) out[k] = [...(out[k] as unknown[])].sort();
  for (const k of ['anyOf', 'oneOf']) if (Array.isArray(out[k])) out[k] = [...(out[k] as unknown[])].sort(byJson);
  return out;
}

/**
 * What the code accepts, as JSON Schema. `io: 'input'` because a consumer parses: zod objects
 * strip unknown keys rather than reject them, which is what lets `.v1` gain optional fields.
 */
const fromZod = (schema: z.ZodType) => normalize(z.toJSONSchema(schema, { io: 'input' }));

/** The envelope a message's payload describes: its `allOf` parts merged property by property. */
function envelopeOf(payload: unknown): { properties: Record<string, Obj>; required: Set<string> } {
  const properties: Record<string, Obj> = {};
  const required = new Set<string>();
  const visit = (schema: unknown) => {
    const s = obj(schema, 'payload schema');
    for (const part of (s.allOf as unknown[] | undefined) ?? []) visit(part);
    for (const [name, prop] of Object.entries(isObj(s.properties) ? s.properties : {})) {
      properties[name] = { ...properties[name], ...obj(prop, name) };
    }
    for (const name of (s.required as string[] | undefined) ?? []) required.add(name);
  };
  visit(payload);
  return { properties, required };
}

interface AmqpChannel {
  id: string;
  address: string;
  messages: Obj[];
  amqp: Obj;
}
// The broker's channels; the realtime gateway's WebSocket channel (bindings.ws) is not one.
const channels: AmqpChannel[] = Object.entries(obj(doc.channels, 'channels'))
  .filter(([, c]) => !isObj(obj(c, 'channel').bindings) || !('ws' in (obj(c, 'channel').bindings as Obj)))
  .map(([id, c]) => {
    const channel = obj(c, id);
    return {
      id,
      address: String(channel.address),
      messages: Object.values(isObj(channel.messages) ? channel.messages : {}).map((m) => obj(m, `${id} message`)),
      amqp: obj(obj(channel.bindings, `${id} bindings`).amqp, `${id} amqp binding`),
    };
  });
const routingKeyChannels = (exchange: string) =>
  channels.filter((c) => c.amqp.is === 'routingKey' && obj(c.amqp.exchange, c.id).name === exchange);
function channelFor(exchange: string, routingKey: string): AmqpChannel {
  const found = routingKeyChannels(exchange).filter((c) => c.address === routingKey);
  if (found.length !== 1) throw new Error(`${found.length} channels for ${exchange} ${routingKey}, expected 1`);
  return found[0] as AmqpChannel;
}

/** Compiles the document's own payload schemas; strict about keywords, so a typo'd one fails. */
const payloadAjv = new Ajv({ allErrors: true, strictTypes: false, strictRequired: false });
addFormats.default(payloadAjv);

const topology = switchboardTopology();
const { names } = topology;

const inbound: Array<{ routingKey: string; type: string; schema: z.ZodType }> = [
  ...Object.entries(inboundEvents).map(([routingKey, schema]) => ({
    routingKey,
    type: inboundType(routingKey),
    schema: schema as z.ZodType,
  })),
  // One type for every provider's parked payloads: the provider is in the routing key and the data.
  { routingKey: parkedRoutingKey('{provider}'), type: inboundType('parked'), schema: ParkedPayload },
];
const domain = Object.entries(domainEvents).map(([routingKey, schema]) => ({
  routingKey,
  type: domainEventType(routingKey as keyof typeof domainEvents),
  schema: schema as z.ZodType,
}));

describe('asyncapi.yaml', () => {
  it('is a valid AsyncAPI 3.0.0 document', () => {
    expect(raw.asyncapi).toBe('3.0.0');
    // The bundle inlines the draft-07 meta-schema that Ajv already registers; keep Ajv's.
    const bundled = specs.schemas['3.0.0'] as Obj;
    const { 'http://json-schema.org/draft-07/schema': _, ...definitions } = obj(bundled.definitions, 'definitions');
    const ajv = new Ajv({ allErrors: true, strict: false, code: { optimize: false } });
    addFormats.default(ajv);
    const validate = ajv.compile({ ...bundled, definitions });
    expect(validate(raw) ? [] : ajv.errorsText(validate.errors, { separator: '\n' }).split('\n')).toEqual([]);
    // The schema is not vacuous: a broken AMQP binding is rejected.
    const broken = structuredClone(raw);
    obj(obj(obj(broken.components, 'c').channelBindings, 'cb').eventsExchange, 'e').amqp = { is: 'exchange' };
    expect(validate(broken)).toBe(false);
  });

  it('documents exactly the exchanges the code declares, as durable topic exchanges', () => {
    const documented = new Map(
      channels.filter((c) => c.amqp.is === 'routingKey').map((c) => [obj(c.amqp.exchange, c.id).name, c.amqp.exchange]),
    );
    expect([...documented.keys()].sort()).toEqual(topology.exchanges.map((e) => e.name).sort());
    for (const e of topology.exchanges) expect(documented.get(e.name)).toMatchObject({ type: e.type, durable: true });
  });

  it('documents exactly the routing keys the code publishes', () => {
    const keys = (exchange: string) => routingKeyChannels(exchange).map((c) => c.address);
    expect(keys(names.inbound).sort()).toEqual(inbound.map((e) => e.routingKey).sort());
    expect(keys(names.events).sort()).toEqual(domain.map((e) => e.routingKey).sort());
    const deadLetterKeys = topology.queues.flatMap((q) => q.bindings.filter((b) => b.exchange === names.dlx));
    expect(keys(names.dlx).sort()).toEqual(deadLetterKeys.map((b) => b.pattern).sort());
  });

  it('documents every queue with its arguments and bindings, and no other', () => {
    const queues = channels.filter((c) => c.amqp.is === 'queue');
    expect(queues.map((q) => q.address).sort()).toEqual(topology.queues.map((q) => q.name).sort());
    for (const q of topology.queues) {
      const c = queues.find((d) => d.address === q.name);
      expect(c?.amqp.queue, q.name).toMatchObject({ name: q.name, durable: true, exclusive: false, autoDelete: false });
      expect(c?.amqp['x-queue-arguments'], q.name).toEqual(q.arguments);
      expect(c?.amqp['x-bindings'], q.name).toEqual(q.bindings);
    }
  });

  it('documents the CloudEvents envelope as the code parses it', () => {
    const envelope = obj(obj(doc.components, 'components').schemas, 'schemas').CloudEvent;
    expect(normalize(envelope)).toEqual(fromZod(CloudEvent));
  });

  describe.each([
    { exchange: names.inbound, events: inbound },
    { exchange: names.events, events: domain },
  ])('on $exchange', ({ exchange, events }) => {
    describe.each(events)('$routingKey', ({ routingKey, type, schema }) => {
      const documented = () => {
        const channel = channelFor(exchange, routingKey);
        if (channel.messages.length !== 1) throw new Error(`${channel.id} has ${channel.messages.length} messages`);
        return channel.messages[0] as Obj;
      };

      it('has one CloudEvents message of its type, with AMQP properties mirroring the envelope', () => {
        const message = documented();
        expect(message.contentType).toBe(CLOUDEVENTS_CONTENT_TYPE);
        const { properties, required } = envelopeOf(message.payload);
        expect(properties.type?.const).toBe(type);
        for (const field of ['specversion', 'id', 'source', 'type', 'time', 'data']) expect(required).toContain(field);
        if (exchange === names.events) for (const field of ['subject', 'tenantid']) expect(required).toContain(field);
        expect(obj(message.bindings, 'bindings').amqp).toMatchObject({
          messageType: type,
          'x-messageId': '$message.payload#/id',
          'x-deliveryMode': 2,
        });
      });

      it('documents `data` exactly as the zod schema', () => {
        const message = documented();
        expect(normalize(envelopeOf(message.payload).properties.data)).toEqual(fromZod(schema));
      });

      it('has examples the code accepts unchanged and the document accepts', () => {
        const message = documented();
        const examples = (message.examples as Obj[] | undefined) ?? [];
        expect(examples.length).toBeGreaterThan(0);
        const validate = payloadAjv.compile(obj(message.payload, 'payload'));
        for (const example of examples) {
          const event = CloudEvent.parse(example.payload);
          expect(event.type).toBe(type);
          // Equal after parsing: zod strips unknown keys, so an undocumented field shows up here.
          expect(schema.parse(event.data)).toEqual(event.data);
          expect(validate(example.payload) ? [] : validate.errors).toEqual([]);
          expect(example.headers).toEqual(amqpProperties(event).headers);
        }
      });
    });
  });

  describe('operations', () => {
    const operations = Object.entries(obj(raw.operations, 'operations')).map(([id, o]) => {
      const op = obj(o, id);
      return {
        id,
        action: op.action,
        channelRef: String(obj(op.channel, `${id} channel`).$ref),
        channel: channels.find((c) => `#/channels/${c.id}` === obj(op.channel, `${id} channel`).$ref),
        messageRefs: ((op.messages as Obj[] | undefined) ?? []).map((m) => String(m.$ref)),
      };
    });
    // The realtime gateway's WebSocket operations are not the sync-worker's broker operations.
    const webSocket = new Set(
      Object.entries(obj(raw.channels, 'channels'))
        .filter(([, c]) => isObj(obj(c, 'channel').bindings) && 'ws' in (obj(c, 'channel').bindings as Obj))
        .map(([id]) => `#/channels/${id}`),
    );
    const addresses = (action: string, exchange: string) =>
      operations
        .filter((o) => o.action === action && !webSocket.has(o.channelRef))
        .map((o) => {
          if (!o.channel || obj(o.channel.amqp.exchange, o.id).name !== exchange) {
            throw new Error(`${o.id} does not ${action} on a ${exchange} routing key`);
          }
          return o.channel.address;
        });

    it('use only messages of their own channel', () => {
      for (const op of operations) {
        expect(op.messageRefs.length, op.id).toBeGreaterThan(0);
        for (const ref of op.messageRefs) expect(ref.startsWith(`${op.channelRef}/messages/`), op.id).toBe(true);
      }
    });

    it('the sync-worker receives the inbound events its queue is bound to', () => {
      const bindings = topology.queues.find((q) => q.name === topology.consumers.syncInbound.name)?.bindings ?? [];
      const bound = inbound
        .map((e) => e.routingKey)
        .filter((key) => bindings.some((b) => topicMatches(b.pattern, key)));
      expect(addresses('receive', names.inbound).sort()).toEqual(bound.sort());
    });

    it('the sync-worker sends every domain event', () => {
      expect(addresses('send', names.events).sort()).toEqual(domain.map((e) => e.routingKey).sort());
    });
  });
});
