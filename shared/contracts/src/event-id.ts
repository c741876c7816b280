import { createHash } from 'node:crypto';

/**
 * A UUID (version 5 layout, SHA-1 over a fixed namespace) derived from the parts that identify a
 * provider fact, e.g. `['whatsapp', 'message', wamid]`. A provider that re-sends a webhook gets
 * the same event id, so the consumer's inbox drops the copy.
 */
const NAMESPACE = Buffer.from('6f1c9a4e2b7d4e1f9a0c3b5d7e9f1a2c', 'hex');

export function eventId(...parts: string[]): string {
  const hash = createHash('sha1').update(NAMESPACE).update(parts.join('\u001f')).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The id parts of a failure report's errors: their codes, sorted and distinct, so a provider that
 * re-sends the same failure gets the same event id (its copy is dropped) while a second failure
 * report for the same message with other errors is a fact of its own, whose errors are not lost
 * to the first one's id. None without errors, so other statuses keep the ids they always had.
 */
export function errorCodeParts(errors: ReadonlyArray<{ code?: string | number | undefined }> | undefined): string[] {
  return [...new Set((errors ?? []).map((e) => String(e.code ?? '')))].sort();
}
