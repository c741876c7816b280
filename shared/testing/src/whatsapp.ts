import { signHmacSha256 } from '@switchboard/platform';

/**
 * WhatsApp Cloud API webhook bodies, shaped like Meta's documented examples
 * (developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples).
 */
export const DEV_PHONE_NUMBER_ID = '106540352242922';
export const DEV_WHATSAPP_SECRET = 'dev-whatsapp-app-secret';

/** A full webhook body around one change's `value`, for the business number `phoneNumberId`. */
export const whatsappEnvelope = (value: Record<string, unknown>, phoneNumberId: string = DEV_PHONE_NUMBER_ID) => ({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: '102290129340398',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
            ...value,
          },
        },
      ],
    },
  ],
});

export interface TextMessage {
  from: string;
  id: string;
  text: string;
  timestamp?: number;
  name?: string;
}

export function whatsappText(...messages: TextMessage[]) {
  return whatsappEnvelope({
    contacts: messages.map((m) => ({ profile: { name: m.name ?? 'Kerry Fisher' }, wa_id: m.from })),
    messages: messages.map((m) => ({
      from: m.from,
      id: m.id,
      timestamp: String(m.timestamp ?? 1_700_000_000),
      text: { body: m.text },
      type: 'text',
    })),
  });
}

export interface StatusReport {
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  timestamp: number;
  recipient?: string;
}

export function whatsappStatus(...statuses: StatusReport[]) {
  return whatsappEnvelope({
    statuses: statuses.map((s) => ({
      id: s.id,
      status: s.status,
      timestamp: String(s.timestamp),
      recipient_id: s.recipient ?? '16315551181',
      ...(s.status === 'failed'
        ? {
            errors: [
              {
                code: 131050,
                title: 'Unable to deliver message',
                message: 'Unable to deliver message',
                error_data: { details: 'The user has stopped marketing messages' },
              },
            ],
          }
        : {
            conversation: { id: 'CONVERSATION_ID', origin: { type: 'service' } },
            pricing: { billable: true, pricing_model: 'CBP', category: 'service' },
          }),
    })),
  });
}

/** The body as the provider sends it, and its `X-Hub-Signature-256` header. */
export function signedWhatsApp(payload: unknown, secret = DEV_WHATSAPP_SECRET) {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signHmacSha256(body, secret, 'hex') },
  };
}
