import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('webhooks config', () => {
  it('uses the development secret outside production', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).agentDesk.secret).toBe('dev-agent-desk-secret');
  });

  it('refuses to start in production without real secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AGENT_DESK_WEBHOOK_SECRET: required in production/);
    expect(() => loadConfig({ NODE_ENV: 'production', AGENT_DESK_WEBHOOK_SECRET: 'x' })).toThrow(
      /HELPDESK_WEBHOOK_SECRET/,
    );
    expect(() =>
      loadConfig({ NODE_ENV: 'production', AGENT_DESK_WEBHOOK_SECRET: 'x', HELPDESK_WEBHOOK_SECRET: 'y' }),
    ).toThrow(/GENESYS_WEBHOOK_SECRET/);
  });

  it('names the variable that does not parse', () => {
    expect(() => loadConfig({ SIGNATURE_WINDOW_SECONDS: 'five minutes' })).toThrow(/SIGNATURE_WINDOW_SECONDS/);
  });
});
