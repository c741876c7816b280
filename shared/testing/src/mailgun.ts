import { randomBytes } from 'node:crypto';
import { signMailgun } from '@switchboard/platform';

/**
 * Mailgun payloads taken from public examples, for tests. Sources:
 * - tracking events: django-anymail, tests/test_mailgun_webhooks.py (commit 0a07e84680e51f2e9d3d382c9fc2d1e560ef0232),
 *   "an actual, complete (sanitized) delivered event as received from Mailgun", and its failed (permanent,
 *   temporary) events; opened/clicked/complained/unsubscribed follow the same file's shapes.
 * - inbound forward fields and raw MIME: django-anymail, tests/test_mailgun_inbound.py (same commit),
 *   test_inbound_basics and test_inbound_mime.
 * Only the signature block is recomputed (with our signing key), and the ids a test must vary.
 */

export const DEV_MAILGUN_SIGNING_KEY = 'dev-mailgun-signing-key';
export const DEV_MAILGUN_DOMAIN = 'mg.example.com';

export function mailgunSignature(key = DEV_MAILGUN_SIGNING_KEY, at: Date = new Date(), token?: string) {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const t = token ?? randomBytes(25).toString('hex');
  return { timestamp, token: t, signature: signMailgun(timestamp, t, key) };
}

/** The anymail "delivered" event (sanitized real Mailgun payload). */
export function deliveredEventData(over: Record<string, unknown> = {}) {
  return {
    tags: [],
    timestamp: 1534108637.153125,
    storage: { url: 'https://sw.api.mailgun.net/v3/domains/example.org/messages/eyJwI...', key: 'eyJwI...' },
    'recipient-domain': 'example.com',
    id: 'hTWCTD81RtiDN-...',
    campaigns: [],
    'user-variables': {},
    flags: { 'is-routed': false, 'is-authenticated': true, 'is-system-test': false, 'is-test-mode': false },
    'log-level': 'info',
    envelope: {
      'sending-ip': '333.123.123.200',
      sender: 'test@example.org',
      transport: 'smtp',
      targets: 'recipient@example.com',
    },
    message: {
      headers: {
        to: 'recipient@example.com',
        'message-id': '20180812211713.1.DF5966851B4BAA99@example.org',
        from: 'test@example.org',
        subject: 'Testing',
      },
      attachments: [],
      size: 809,
    },
    recipient: 'recipient@example.com',
    event: 'delivered',
    'delivery-status': {
      tls: true,
      'mx-host': 'smtp-in.example.com',
      'attempt-no': 1,
      description: '',
      'session-seconds': 3.5700838565826416,
      utf8: true,
      code: 250,
      message: 'OK',
      'certificate-verified': true,
    },
    ...over,
  };
}

/** The anymail permanent failure (bounce). */
export function failedPermanentEventData(over: Record<string, unknown> = {}) {
  return {
    event: 'failed',
    id: 'failed-permanent-1',
    severity: 'permanent',
    reason: 'bounce',
    recipient: 'invalid@example.com',
    timestamp: 1534110422.389832,
    'log-level': 'error',
    message: {
      headers: {
        to: 'invalid@example.com',
        'message-id': '20180812214658.1.0DF563D0B3597700@example.org',
        from: 'Test Sender ',
      },
    },
    'delivery-status': {
      tls: true,
      'mx-host': 'aspmx.l.example.org',
      'attempt-no': 1,
      description: '',
      'session-seconds': 2.952177047729492,
      utf8: true,
      code: 550,
      message:
        "5.1.1 The email account that you tried to reach does not exist. Please try\n5.1.1 double-checking the recipient's email address for typos",
      'certificate-verified': true,
    },
    ...over,
  };
}

/** The anymail temporary failure (Mailgun retries delivery). */
export function failedTemporaryEventData(over: Record<string, unknown> = {}) {
  return {
    event: 'failed',
    id: 'failed-temporary-1',
    severity: 'temporary',
    reason: 'generic',
    timestamp: 1534111899.659519,
    'log-level': 'warn',
    message: {
      headers: {
        to: 'undeliverable@nomx.example.com',
        'message-id': '20180812214638.1.4A7D468E9BC18C5D@example.org',
        from: 'Test Sender ',
        subject: 'Testing',
      },
    },
    recipient: 'undeliverable@nomx.example.com',
    'delivery-status': {
      'attempt-no': 3,
      description: 'No MX for nomx.example.com',
      'session-seconds': 0.0,
      'retry-seconds': 1800,
      code: 498,
      message: 'No MX for nomx.example.com',
    },
    ...over,
  };
}

/** An event of another kind on a delivered message (opened, clicked, complained, unsubscribed, accepted). */
export function engagementEventData(event: string, over: Record<string, unknown> = {}) {
  const base = deliveredEventData();
  const { 'delivery-status': _ds, storage: _s, ...rest } = base;
  return {
    ...rest,
    id: `${event}-${randomBytes(6).toString('hex')}`,
    event,
    ...(event === 'clicked' ? { url: 'https://example.com/offer' } : {}),
    ...over,
  };
}

/** A signed JSON tracking webhook. */
export function mailgunEventBody(eventData: unknown, sig = mailgunSignature()) {
  return {
    body: JSON.stringify({ signature: sig, 'event-data': eventData }),
    headers: { 'content-type': 'application/json' },
  };
}

/** The anymail test_inbound_basics forward fields (signed again with our key). */
export function inboundFields(over: Record<string, string> = {}): Record<string, string> {
  return {
    recipient: 'test@inbound.example.com',
    sender: 'envelope-from@example.org',
    'message-headers': JSON.stringify([
      ['X-Mailgun-Spam-Rules', 'DKIM_SIGNED, DKIM_VALID, DKIM_VALID_AU, ...'],
      ['X-Mailgun-Dkim-Check-Result', 'Pass'],
      ['X-Mailgun-Spf', 'Pass'],
      ['X-Mailgun-Sscore', '1.7'],
      ['X-Mailgun-Sflag', 'No'],
      ['X-Mailgun-Incoming', 'Yes'],
      ['X-Envelope-From', '<envelope-from@example.org>'],
      ['Received', 'from mail.example.org by mxa.mailgun.org ...'],
      ['Received', 'by mail.example.org for <test@inbound.example.com> ...'],
      ['Dkim-Signature', 'v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; ...'],
      ['Mime-Version', '1.0'],
      ['Received', 'by 10.10.1.71 with HTTP; Wed, 11 Oct 2017 18:31:04 -0700 (PDT)'],
      ['From', '"Displayed From" <from+test@example.org>'],
      ['Date', 'Wed, 11 Oct 2017 18:31:04 -0700'],
      ['Message-Id', '<CAEPk3R+4Zr@mail.example.org>'],
      ['Subject', 'Test subject'],
      ['To', '"Test Inbound" <test@inbound.example.com>, other@example.com'],
      ['Cc', 'cc@example.com'],
      ['Content-Type', 'multipart/mixed; boundary="089e0825ccf874a0bb055b4f7e23"'],
    ]),
    'body-plain': 'Test body plain',
    'body-html': '<div>Test body html</div>',
    'stripped-html': 'stripped html body',
    'stripped-text': 'stripped plaintext body',
    ...over,
  };
}

/** The anymail test_inbound_mime raw message. */
export const INBOUND_MIME = [
  'From: A tester <test@example.org>',
  'Date: Thu, 12 Oct 2017 18:03:30 -0700',
  'Message-ID: <CAEPk3RKEx@mail.example.org>',
  'Subject: Raw MIME test',
  'To: test@inbound.example.com',
  'MIME-Version: 1.0',
  'Content-Type: multipart/alternative; boundary="94eb2c05e174adb140055b6339c5"',
  '',
  '--94eb2c05e174adb140055b6339c5',
  'Content-Type: text/plain; charset="UTF-8"',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  "It's a body=E2=80=A6",
  '',
  '--94eb2c05e174adb140055b6339c5',
  'Content-Type: text/html; charset="UTF-8"',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<div dir=3D"ltr">It\'s a body=E2=80=A6</div>',
  '',
  '--94eb2c05e174adb140055b6339c5--',
  '',
].join('\r\n');

/** A forward as multipart/form-data (files become attachments), signed unless `sig` is given. */
export async function inboundMultipart(
  fields: Record<string, string>,
  files: Array<{ name: string; filename: string; type: string; content: string }> = [],
  sig = mailgunSignature(),
) {
  const form = new FormData();
  for (const [k, v] of Object.entries({ ...fields, ...sig })) form.append(k, v);
  for (const f of files) form.append(f.name, new Blob([f.content], { type: f.type }), f.filename);
  const res = new Response(form);
  return {
    body: Buffer.from(await res.arrayBuffer()),
    headers: { 'content-type': res.headers.get('content-type') ?? '' },
  };
}

/** A forward as application/x-www-form-urlencoded, signed unless `sig` is given. */
export function inboundUrlencoded(fields: Record<string, string>, sig = mailgunSignature()) {
  return {
    body: new URLSearchParams({ ...fields, ...sig }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}
