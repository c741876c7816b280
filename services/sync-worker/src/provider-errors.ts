import type { ProviderError } from '@switchboard/contracts';

/** Two reports of one failure (a repeated `failed`, a redelivered receipt) are the same error. */
const errorKey = (e: ProviderError) =>
  JSON.stringify([e.code ?? null, e.title ?? null, e.message ?? null, e.details ?? null]);

/**
 * The errors a message keeps, with `incoming` added: each distinct error once, in the order first
 * seen. Returns `kept` itself when nothing is new, so the caller can tell whether to save.
 */
export function mergeErrors(
  kept: ProviderError[] | null,
  incoming: ProviderError[] | null | undefined,
): ProviderError[] | null {
  if (!incoming?.length) return kept;
  const seen = new Set((kept ?? []).map(errorKey));
  const added: ProviderError[] = [];
  for (const e of incoming) {
    const key = errorKey(e);
    if (seen.has(key)) continue;
    seen.add(key);
    added.push(e);
  }
  return added.length > 0 ? [...(kept ?? []), ...added] : kept;
}
