/**
 * The edges' rate limit counts in fixed windows aligned to the epoch (`floor(now / windowMs)`), so a
 * test that spends a budget and expects its 429 fails when a window ends halfway through. Called
 * before such a test, this waits (only when needed) until the current window has at least
 * `marginMs` left: the test's requests then all fall in one window.
 */
export async function clearOfWindowEnd(windowMs: number, marginMs = 5_000): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 20));
}
