import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('realtime config', () => {
  it('defaults to port 8084 and the development token secret', () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(8084);
    expect(c.tokens.secret).toBe('dev-realtime-token-secret');
  });
  it('refuses the development token secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/REALTIME_TOKEN_SECRET/);
  });
  it('names a bad variable', () => {
    expect(() => loadConfig({ REALTIME_MAX_BUFFERED_BYTES: '-1' })).toThrow(/REALTIME_MAX_BUFFERED_BYTES/);
  });
});
