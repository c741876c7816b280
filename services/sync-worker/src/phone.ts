import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * A WhatsApp id or a phone number in any international notation → E.164 (`+16315551181`), or
 * null when it cannot be a phone number. WhatsApp ids are international numbers without `+`.
 */
export function toE164(input: string): string | null {
  const trimmed = input.trim();
  const international = trimmed.startsWith('+') || trimmed.startsWith('00') ? trimmed : `+${trimmed}`;
  const parsed = parsePhoneNumberFromString(international.replace(/^00/, '+'));
  return parsed?.isPossible() ? parsed.number : null;
}
