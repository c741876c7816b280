import type { ChannelModel } from 'amqplib';

/** The part of amqplib's connection internals this touches (lib/connection.js, lib/mux.js). */
interface Muxer {
  out: { cork(): void; uncork(): void };
  _readIncoming(): void;
}

/**
 * Sends the frames one turn of the event loop queued in one socket write. amqplib's `Mux` moves
 * frames from the channels to the socket once per turn, but writes each frame on its own: every
 * publish, every ack is a syscall, a trip through the kernel's TCP stack, and a wake-up of the
 * broker's reader. Corked for the duration of that loop, the socket sends them as one `writev`
 * when it is uncorked at the loop's end: nothing waits for a timer, the frames leave in the same
 * turn and the same order as before. `write` still reports a full buffer past the high-water
 * mark, so back-pressure (the mux pausing until `drain`) works as it did.
 *
 * Returns false (and changes nothing) when the connection does not have the shape this expects,
 * e.g. after an amqplib upgrade changed its internals; `coalesce.test.ts` then fails.
 */
export function coalesceFrameWrites(conn: ChannelModel): boolean {
  const muxer = (conn as unknown as { connection?: { muxer?: Partial<Muxer> } }).connection?.muxer;
  const out = muxer?.out;
  const readIncoming = muxer?._readIncoming;
  if (!muxer || typeof readIncoming !== 'function' || typeof out?.cork !== 'function') return false;
  muxer._readIncoming = function corked(this: Muxer) {
    out.cork();
    try {
      readIncoming.call(this);
    } finally {
      out.uncork();
    }
  };
  return true;
}
