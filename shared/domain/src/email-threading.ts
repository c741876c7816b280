/**
 * Email threading (after Jamie Zawinski's algorithm, https://www.jwz.org/doc/threading.html):
 * messages are linked by their Message-ID, References and In-Reply-To headers; the subject is a
 * fallback only. Pure: no I/O, no clock.
 */

/** The message ids in a header value (`<a@b> <c@d>`), without angle brackets, in order, each once. */
export function parseMessageIds(value: string | readonly string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  const text = typeof value === 'string' ? value : value.join(' ');
  const out: string[] = [];
  const bracketed = text.match(/<[^<>\s]+>/g);
  const raw = bracketed ? bracketed.map((m) => m.slice(1, -1)) : text.split(/[\s,]+/).filter((s) => s.includes('@'));
  for (const id of raw) {
    const clean = id.trim();
    if (clean.length > 0 && !out.includes(clean)) out.push(clean);
  }
  return out;
}

/**
 * The ancestor chain of a message, oldest first: References, then any In-Reply-To id not in it
 * (JWZ: In-Reply-To names the parent when References is missing or truncated, as Outlook does).
 * The message's own id is dropped, which breaks the simplest loop.
 */
export function ancestorChain(input: { messageId: string; references?: string[]; inReplyTo?: string[] }): string[] {
  const chain = [...(input.references ?? [])];
  for (const id of input.inReplyTo ?? []) if (!chain.includes(id)) chain.push(id);
  return chain.filter((id, i) => id !== input.messageId && chain.indexOf(id) === i);
}

const REPLY_PREFIX =
  /^\s*((re|fwd?|aw|sv|wg|tr|vs|antw|rif|r|ref|odp|res|enc|doorst|vl)(\[\d+\]|\(\d+\))?\s*[:：]\s*|\[[^\]]*\]\s*)/i;

/** Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?ISO-8859-1?Q?…?=`) in a header value. */
export function decodeEncodedWords(value: string): string {
  // Whitespace between two adjacent encoded words is not part of the text (RFC 2047 §6.2).
  const joined = value.replace(/(\?=)\s+(=\?)/g, '$1$2');
  return joined.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (whole, charset: string, enc: string, text: string) => {
    try {
      const bytes =
        enc.toUpperCase() === 'B'
          ? Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
          : Uint8Array.from(
              text
                .replace(/_/g, ' ')
                .replace(/=([0-9A-Fa-f]{2})|([\s\S])/g, (_m, hex: string | undefined, ch: string) =>
                  hex ? String.fromCharCode(Number.parseInt(hex, 16)) : ch,
                ),
              (c) => c.charCodeAt(0),
            );
      return new TextDecoder(charset.split('*')[0]?.toLowerCase() ?? 'utf-8').decode(bytes);
    } catch {
      return whole;
    }
  });
}

/**
 * The subject with reply and forward markers removed (Re, Fwd, AW, SV, WG, TR, Rif, list tags
 * like `[team]`, counted forms like `Re[2]:`), encoded words decoded and whitespace collapsed;
 * case kept, for showing and for "Re: <base>" on a reply.
 */
export function baseSubject(subject: string | null | undefined): string {
  let s = decodeEncodedWords(subject ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  for (let prev = ''; prev !== s; ) {
    prev = s;
    s = s.replace(REPLY_PREFIX, '').trim();
  }
  return s.replace(/\s*\((fwd|fw)\)$/i, '');
}

/** `baseSubject`, case folded: two messages of one thread compare equal. */
export const normalizeSubject = (subject: string | null | undefined) => baseSubject(subject).toLowerCase();

/** True when the subject carries a reply or forward marker (JWZ's "is a reply" test). */
export const isReplySubject = (subject: string | null | undefined) =>
  REPLY_PREFIX.test(decodeEncodedWords(subject ?? ''));
