/**
 * What an area of the read API is given, and its shape: each file of api/ exports one `ApiRoutes`
 * and index.ts registers them all (kept apart from index.ts, so the areas do not import their registry).
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { CountryCode } from 'libphonenumber-js';
import type { Deps } from '../deps.ts';
import type { LookupCache } from '../lookup-cache.ts';

export interface ApiDeps extends Deps {
  redis: Redis;
  cache: LookupCache;
  /** The region a phone search reads national numbers in when the request names none. */
  defaultPhoneRegion?: CountryCode | undefined;
  /** The lookup cache's TTL, which an erasure's purge keeps the bumped generations for. */
  lookupTtlSeconds?: number | undefined;
}

/** One area of the read API: registers its routes on the authenticated scope. */
export type ApiRoutes = (api: FastifyInstance, deps: ApiDeps) => void;
