import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';

/**
 * A phone number → E.164 (`+16315551181`), or null when it cannot be one. A number with `+` or
 * `00` is international. Any other is read, when a `region` is given, as a national number of
 * that region if it is a valid one there (`(631) 555-1181` in US); else as international without
 * the `+`, which is also what a WhatsApp id is (`16315551181`). Without a region a national number
 * cannot be told from an international one, so it is read as international.
 */
export function toE164(input: string, region?: CountryCode): string | null {
  const key = `${region ?? ''}:${input}`;
  const known = parsed.get(key);
  if (known !== undefined) return known;
  // Dropped wholesale when full: a bound on memory, not an eviction policy worth its own cost.
  if (parsed.size >= MAX_REMEMBERED) parsed.clear();
  const e164 = parseE164(input, region);
  parsed.set(key, e164);
  return e164;
}

/**
 * Numbers already read: libphonenumber's parse is the costliest step of preparing a message
 * (matching the number against its region's metadata), and a sender's number repeats on every
 * message it sends. The answer depends on the input and the region alone.
 */
const parsed = new Map<string, string | null>();
const MAX_REMEMBERED = 10_000;

function parseE164(input: string, region?: CountryCode): string | null {
  const trimmed = input.trim();
  const international = trimmed.startsWith('+') || trimmed.startsWith('00');
  if (!international && region) {
    const national = parsePhoneNumberFromString(trimmed, region);
    if (national?.isValid()) return national.number;
  }
  const parsed = parsePhoneNumberFromString((international ? trimmed : `+${trimmed}`).replace(/^00/, '+'));
  return parsed?.isPossible() ? parsed.number : null;
}

/** An ISO 3166-1 alpha-2 region libphonenumber knows (`US`, `gb`), as its upper-case code. */
export const PhoneRegion = z
  .string()
  .trim()
  .transform((v, ctx): CountryCode => {
    const code = v.toUpperCase();
    if (isSupportedCountry(code)) return code;
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not an ISO 3166-1 alpha-2 region, e.g. US` });
    return z.NEVER;
  });
