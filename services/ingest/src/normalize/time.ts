/**
 * Sender-controlled unix timestamps, range-checked before use: `new Date(s * 1000)` beyond
 * ±8.64e15 ms is an Invalid Date whose `toISOString()` throws, which would answer a correctly
 * signed webhook 500 forever. Out of range is not a time: the part is parked with its reason.
 */
const MAX_DATE_MS = 8.64e15;

/** The ISO time of unix `seconds` (a number or digits), or undefined when it is not a representable time. */
export function isoFromUnixSeconds(seconds: number | string): string | undefined {
  const s = typeof seconds === 'string' ? Number(seconds) : seconds;
  if (!Number.isFinite(s) || s < 0 || s * 1000 > MAX_DATE_MS) return undefined;
  return new Date(s * 1000).toISOString();
}
