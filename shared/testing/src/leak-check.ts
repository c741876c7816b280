import { afterAll, expect, vi } from 'vitest';

/**
 * Fails a test file that leaves a network connection open after its own cleanup ran: a leaked
 * pool, channel or client would hold servers' resources and hide a missing shutdown step.
 * Registered as a setup file, so its afterAll runs after the file's own hooks.
 */
afterAll(async () => {
  await vi.waitFor(
    () => {
      const open = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap');
      expect(open, 'connections left open by this test file').toEqual([]);
    },
    { timeout: 3_000, interval: 50 },
  );
});
