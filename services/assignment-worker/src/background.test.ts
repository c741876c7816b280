import { describe, expect, it } from 'vitest';
import { createBackground } from './background.ts';

/** A promise and the function that settles it, for work the test finishes when it chooses. */
function deferred() {
  let resolve = () => {};
  let reject = (_: Error) => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function logged() {
  const lines: Array<{ obj: unknown; msg: unknown }> = [];
  return { lines, logger: { error: (obj: unknown, msg?: unknown) => lines.push({ obj, msg }) } as never };
}

describe('background work', () => {
  it('drain waits for every tracked piece, also one started while it drains', async () => {
    const { logger } = logged();
    const bg = createBackground(logger);
    const first = deferred();
    const second = deferred();
    const done: string[] = [];
    bg.run(
      'first',
      first.promise.then(() => done.push('first')).then(() => undefined),
    );
    let drained = false;
    const draining = bg.drain().then(() => {
      drained = true;
    });
    bg.run(
      'second',
      second.promise.then(() => done.push('second')).then(() => undefined),
    );
    first.resolve();
    // A turn of the event loop: the first piece has settled, the second has not, so drain still waits.
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual(['first']);
    expect(drained).toBe(false);
    second.resolve();
    await draining;
    expect(done).toEqual(['first', 'second']);
  });

  it('a failure is logged with what failed, never unhandled, and does not stop the drain', async () => {
    const { lines, logger } = logged();
    const bg = createBackground(logger);
    const failing = deferred();
    bg.run('schedule idle check', failing.promise);
    failing.reject(new Error('redis down'));
    await bg.drain();
    expect(lines).toEqual([
      { obj: { err: new Error('redis down'), what: 'schedule idle check' }, msg: 'background work failed' },
    ]);
    await bg.drain();
  });
});
