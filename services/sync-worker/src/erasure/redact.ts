/** What replaces a value that held personal data in an event. */
export const ERASED = '[erased]';

/**
 * The envelope with every string of its `data` that is, or contains, one of `personal` (the
 * customer's identifiers and texts) replaced by ERASED; ids, types and times stay, so the event
 * still parses and says what happened. A short text (under 4 characters) is replaced only where a
 * value equals it, so a customer who wrote "ok" does not redact every "ok" of the event.
 */
export function redactEnvelope(envelope: unknown, personal: string[]): { value: unknown; changed: boolean } {
  const exact = new Set(personal);
  const contained = personal.filter((p) => p.length >= 4);
  let changed = false;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (exact.has(v) || contained.some((p) => v.includes(p))) {
        changed = true;
        return ERASED;
      }
      return v;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  if (envelope === null || typeof envelope !== 'object' || !('data' in envelope)) return { value: envelope, changed };
  const value = { ...envelope, data: walk((envelope as { data: unknown }).data) };
  return { value, changed };
}
