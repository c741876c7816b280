import { DEV_PHONE_NUMBER_ID, whatsappEnvelope } from './whatsapp.ts';

/**
 * One WhatsApp Cloud API webhook per payload shape, for fixture tests and the mixed-type bench.
 *
 * Sources, recorded per fixture in `source`:
 * - META: Meta's "Webhooks payload examples" for the Cloud API,
 *   https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
 *   (text, reaction, media, sticker, unknown/unsupported, location, contacts, quick-reply button,
 *   list and button replies, product enquiry, order, customer changed number, referral, statuses).
 * - META_COMPONENTS: Meta's webhook components reference,
 *   https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
 *   (`context.forwarded`, `frequently_forwarded`, `voice` on audio, value-level `errors`,
 *   `conversation` and `pricing` on statuses, the `errors` of a failed status).
 * - META_ERRORS: Meta's Cloud API error codes,
 *   https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 *   (the code and title of the failed status: 131026, message undeliverable).
 * The structure, field names and literal values follow the documentation; where it shows
 * placeholders (`<MEDIA_ID>`, `<SHA256>` and the like) we put concrete values of our own, our
 * development `phone_number_id` in `metadata`, and a unique `wamid` per fixture so that several
 * can be stored side by side.
 */
const META = 'https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples';
const META_COMPONENTS = 'https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components';
const META_ERRORS = 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes';

export const FIXTURE_CUSTOMER = '16315551181';

export interface WhatsAppFixture {
  name: string;
  source: string;
  /** The `value` of one `messages` change (metadata is added by `whatsappFixturePayload`). */
  value: Record<string, unknown>;
}

const contacts = [{ profile: { name: 'Kerry Fisher' }, wa_id: FIXTURE_CUSTOMER }];
const message = (id: string, type: string, body: Record<string, unknown>) => ({
  contacts,
  messages: [{ from: FIXTURE_CUSTOMER, id, timestamp: '1603059201', type, ...body }],
});

export const whatsappFixtures: WhatsAppFixture[] = [
  { name: 'text', source: META, value: message('wamid.fx-text', 'text', { text: { body: 'this is a text message' } }) },
  {
    name: 'reaction',
    source: META,
    value: message('wamid.fx-reaction', 'reaction', {
      reaction: { message_id: 'wamid.fx-text', emoji: '\u{1F600}' },
    }),
  },
  {
    name: 'reaction removed',
    source: META_COMPONENTS,
    value: message('wamid.fx-unreaction', 'reaction', { reaction: { message_id: 'wamid.fx-text', emoji: '' } }),
  },
  {
    name: 'image',
    source: META,
    value: message('wamid.fx-image', 'image', {
      image: {
        caption: 'This is a caption',
        mime_type: 'image/jpeg',
        sha256: '81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3',
        id: '2754859441498128',
      },
    }),
  },
  {
    name: 'audio',
    source: META_COMPONENTS,
    value: message('wamid.fx-audio', 'audio', {
      audio: {
        mime_type: 'audio/mpeg',
        sha256: 'a8b4e0c1f8d0d1ef3c9a5f0e4d8c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2',
        id: '1200481327413561',
      },
    }),
  },
  {
    name: 'voice',
    source: META_COMPONENTS,
    value: message('wamid.fx-voice', 'audio', {
      audio: {
        mime_type: 'audio/ogg; codecs=opus',
        sha256: 'b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2',
        id: '1200481327413562',
        voice: true,
      },
    }),
  },
  {
    name: 'video',
    source: META_COMPONENTS,
    value: message('wamid.fx-video', 'video', {
      video: {
        caption: 'our video',
        mime_type: 'video/mp4',
        sha256: 'c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3',
        id: '1200481327413563',
      },
    }),
  },
  {
    name: 'document',
    source: META_COMPONENTS,
    value: message('wamid.fx-document', 'document', {
      document: {
        caption: 'the invoice',
        filename: 'invoice-2020-10.pdf',
        mime_type: 'application/pdf',
        sha256: 'd3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4',
        id: '1200481327413564',
      },
    }),
  },
  {
    name: 'sticker',
    source: META,
    value: message('wamid.fx-sticker', 'sticker', {
      sticker: {
        mime_type: 'image/webp',
        sha256: 'e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5',
        id: '1200481327413565',
        animated: false,
      },
    }),
  },
  {
    name: 'location',
    source: META,
    value: message('wamid.fx-location', 'location', {
      location: {
        latitude: 37.483307,
        longitude: 122.148981,
        name: 'Philz Coffee',
        address: '101 Forest Ave, Palo Alto, CA 94301',
      },
    }),
  },
  {
    name: 'contacts',
    source: META,
    value: message('wamid.fx-contacts', 'contacts', {
      contacts: [
        {
          name: { formatted_name: 'Barbara J. Johnson', first_name: 'Barbara', last_name: 'Johnson' },
          phones: [{ phone: '+1 (940) 555-1234', type: 'HOME', wa_id: '19405551234' }],
          emails: [{ email: 'bjohnson@example.com', type: 'HOME' }],
        },
      ],
    }),
  },
  {
    name: 'interactive button reply',
    source: META,
    value: message('wamid.fx-button-reply', 'interactive', {
      context: { from: '15550783881', id: 'wamid.fx-our-question' },
      interactive: {
        type: 'button_reply',
        button_reply: { id: 'unique-button-identifier-here', title: 'button-text' },
      },
    }),
  },
  {
    name: 'interactive list reply',
    source: META,
    value: message('wamid.fx-list-reply', 'interactive', {
      context: { from: '15550783881', id: 'wamid.fx-our-list' },
      interactive: {
        type: 'list_reply',
        list_reply: { id: 'list_reply_id', title: 'list_reply_title', description: 'list_reply_description' },
      },
    }),
  },
  {
    name: 'template quick-reply button',
    source: META,
    value: message('wamid.fx-quick-reply', 'button', {
      context: { from: '15550783881', id: 'wamid.fx-our-template' },
      button: { text: 'No', payload: 'No-Button-Payload' },
    }),
  },
  {
    name: 'context reply',
    source: META_COMPONENTS,
    value: message('wamid.fx-context', 'text', {
      context: { from: '15550783881', id: 'wamid.fx-our-message' },
      text: { body: 'yes, that one' },
    }),
  },
  {
    name: 'forwarded',
    source: META_COMPONENTS,
    value: message('wamid.fx-forwarded', 'text', {
      context: { forwarded: true, frequently_forwarded: true },
      text: { body: 'look at this' },
    }),
  },
  {
    name: 'product enquiry',
    source: META,
    value: message('wamid.fx-product', 'text', {
      text: { body: 'is this in stock?' },
      context: {
        from: '15550783881',
        id: 'wamid.fx-our-catalog',
        referred_product: { catalog_id: '1234567890', product_retailer_id: 'sku-42' },
      },
    }),
  },
  {
    name: 'ad referral',
    source: META,
    value: message('wamid.fx-referral', 'text', {
      text: { body: 'I saw your ad' },
      referral: {
        source_url: 'https://fb.me/3cr4Wqqkv',
        source_id: '6207464011633',
        source_type: 'ad',
        headline: 'Our summer sale',
        body: 'Everything half price',
        media_type: 'image',
        image_url: 'https://example.com/ad.jpg',
        ctwa_clid:
          'ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a',
      },
    }),
  },
  {
    name: 'order',
    source: META,
    value: message('wamid.fx-order', 'order', {
      order: {
        catalog_id: 'the-catalog_id',
        text: 'text-message-sent-along-with-the-order',
        product_items: [
          { product_retailer_id: 'the-product-SKU-identifier', quantity: 2, item_price: 12.5, currency: 'USD' },
        ],
      },
    }),
  },
  {
    name: 'unsupported',
    source: META,
    value: message('wamid.fx-unsupported', 'unsupported', {
      errors: [
        {
          code: 131051,
          title: 'Message type unknown',
          message: 'Message type unknown',
          error_data: { details: 'Message type is currently not supported.' },
        },
      ],
    }),
  },
  {
    name: 'system: customer changed number',
    source: META,
    value: message('wamid.fx-system', 'system', {
      system: {
        body: 'NAME changed from 16315551181 to 16315551182',
        new_wa_id: '16315551182',
        type: 'customer_changed_number',
      },
    }),
  },
];

export type StatusName = 'sent' | 'delivered' | 'read' | 'failed';

export interface StatusFixture {
  name: StatusName;
  source: string;
  /** The `value` of one `messages` change reporting this status for message `id`. */
  value: (id: string) => Record<string, unknown>;
}

/** The `conversation` and `pricing` objects Meta sends with `sent` and `delivered` (components reference). */
export const statusConversation = {
  id: 'CONVERSATION_ID',
  expiration_timestamp: '1603172713',
  origin: { type: 'user_initiated' },
};
export const statusPricing = { billable: true, pricing_model: 'CBP', category: 'service' };

/** A failed delivery's `errors`, shaped as the components reference shows; the code is one Meta's error-code list names. */
export const statusErrors = [
  {
    code: 131026,
    title: 'Message undeliverable',
    message: 'Message undeliverable',
    error_data: { details: 'Message Undeliverable.' },
    href: META_ERRORS,
  },
];

const statusValue = (id: string, status: StatusName, timestamp: string, extra: Record<string, unknown> = {}) => ({
  statuses: [{ id, status, timestamp, recipient_id: FIXTURE_CUSTOMER, ...extra }],
});

/**
 * One status report per delivery status, as Meta's payload examples show them: `sent` and
 * `delivered` with `conversation` and `pricing`, `read` without them, `failed` with `errors`
 * instead. Timestamps follow the delivery order (sent, delivered, read; failed after sent).
 */
export const statusFixtures: Record<StatusName, StatusFixture> = {
  sent: {
    name: 'sent',
    source: META,
    value: (id) => statusValue(id, 'sent', '1603086310', { conversation: statusConversation, pricing: statusPricing }),
  },
  delivered: {
    name: 'delivered',
    source: META,
    value: (id) =>
      statusValue(id, 'delivered', '1603086313', { conversation: statusConversation, pricing: statusPricing }),
  },
  read: { name: 'read', source: META, value: (id) => statusValue(id, 'read', '1603086320') },
  failed: {
    name: 'failed',
    source: META_COMPONENTS,
    value: (id) => statusValue(id, 'failed', '1603086315', { errors: statusErrors }),
  },
};

/** Value-level errors: Meta could not process something about the whole change. */
export const valueErrorsFixture: WhatsAppFixture = {
  name: 'value-level errors',
  source: META_COMPONENTS,
  value: {
    errors: [
      {
        code: 130429,
        title: 'Rate limit hit',
        message: '(#130429) Rate limit hit',
        error_data: { details: 'Cloud API message throughput has been reached.' },
      },
    ],
  },
};

/** A full webhook body around one fixture's `value`. */
export function whatsappFixturePayload(value: Record<string, unknown>, phoneNumberId = DEV_PHONE_NUMBER_ID) {
  return whatsappEnvelope(value, phoneNumberId);
}
