import { DEV_PHONE_NUMBER_ID } from './whatsapp.ts';

/**
 * WhatsApp webhooks as they are in 2026: customers known by a business-scoped user id (BSUID) and a
 * username instead of (or beside) a phone number, `user_changed_user_id` notices, message echoes,
 * the history sync, calls and account-level fields. Written by us from the field names and
 * structure of these sources (values are our own):
 * - SYSTEM: Meta, "System messages webhook reference" (system.type `user_changed_user_id`, no
 *   contacts array, `previous_user_id` / `user_id`),
 *   https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/system/
 *   and its changelog entry of Aug 11, 2026 (`previous_parent_user_id`),
 *   https://developers.facebook.com/documentation/business-messaging/whatsapp/changelog/
 * - BSUID: Sinch, "Business-scoped user IDs" (the id's form, `US.13491208655302741918`),
 *   https://developers.sinch.com/docs/conversation/channel-support/whatsapp/user-id ; the public
 *   SDK type `contacts[].user_id` in github.com/ericvera/whatsapp-cloudapi
 *   (packages/types/src/webhook/contact.ts); `username` `@bob` and parent id `HK.ENT.…` from
 *   https://docs.wati.io/reference/new-contact-message-bsuid ; `from_user_id` / `from_parent_user_id`
 *   as read by public webhook handlers (the messages object of Meta's reference).
 * - ECHOES: Meta, "smb_message_echoes webhook reference" (`message_echoes[]` with `from` the
 *   business number, `to` the customer),
 *   https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/smb_message_echoes
 *   and `to_user_id` from https://docs.ycloud.com/zh/api-reference/webhook-reference/whatsapp-smb-message-echoes.md
 * - HISTORY: Meta, "history webhook reference" (`history[].metadata.phase` / `chunk_order`,
 *   `threads[].id`, `messages[].history_context.status`),
 *   https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/history/
 *   and 360dialog, https://docs.360dialog.com/docs/waba-management/embedded-signup/whatsapp-coexistence/coexistence-webhooks
 * - CALLS: the `calls` field (`id` `wacid.…`, `event` connect/terminate, `direction`,
 *   `start_time`, `end_time`, `duration`, `status`, `from_user_id`) as forwarded in
 *   https://docs.ycloud.com/reference-link/whatsapp-calling-terminate-webhook-examples
 * - ACCOUNT: the account-level fields named in Meta's webhook field list (`account_update`,
 *   `message_template_status_update` with `event`, `message_template_id`, `reason`, …),
 *   https://developers.facebook.com/docs/graph-api/webhooks/reference/whatsapp-business-account/
 */
export const IDENTITY_SOURCES = {
  system:
    'https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/system/',
  bsuid: 'https://developers.sinch.com/docs/conversation/channel-support/whatsapp/user-id',
  echoes:
    'https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/smb_message_echoes',
  history: 'https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/history/',
  calls: 'https://docs.ycloud.com/reference-link/whatsapp-calling-terminate-webhook-examples',
  account: 'https://developers.facebook.com/docs/graph-api/webhooks/reference/whatsapp-business-account/',
} as const;

export const WABA_ID = '102290129340398';
export const BSUID = 'US.13491208655302741918';
export const BSUID_NEXT = 'US.13491208655302749999';
export const PARENT_BSUID = 'US.ENT.11815799212886844830';
export const USERNAME = '@kerry.fisher';

/** A whole webhook with one change of `field` (metadata added unless `metadata: false`). */
export function whatsappChange(
  field: string,
  value: Record<string, unknown>,
  opts: { metadata?: boolean; phoneNumberId?: string } = {},
) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WABA_ID,
        changes: [
          {
            field,
            value: {
              ...(opts.metadata === false
                ? {}
                : {
                    messaging_product: 'whatsapp',
                    metadata: {
                      display_phone_number: '15550783881',
                      phone_number_id: opts.phoneNumberId ?? DEV_PHONE_NUMBER_ID,
                    },
                  }),
              ...value,
            },
          },
        ],
      },
    ],
  };
}

/** A text message from a user known only by user id and username (no `wa_id`, no `from`). */
export const usernameOnlyText = (
  wamid: string,
  text: string,
  userId = BSUID,
  timestamp = '1780000000',
  who: { parent: string; username: string } = { parent: PARENT_BSUID, username: USERNAME },
) => ({
  contacts: [
    { profile: { name: 'Kerry Fisher', username: who.username }, user_id: userId, parent_user_id: who.parent },
  ],
  messages: [
    {
      from_user_id: userId,
      from_parent_user_id: who.parent,
      id: wamid,
      timestamp,
      type: 'text',
      text: { body: text },
    },
  ],
});

/** The `user_changed_user_id` system message: no contacts array, no phone number. */
export const userChangedUserId = (wamid: string, previous = BSUID, next = BSUID_NEXT, timestamp = '1780000100') => ({
  id: wamid,
  timestamp,
  type: 'system',
  system: {
    body: `User Kerry Fisher changed from ${previous} to ${next}`,
    type: 'user_changed_user_id',
    previous_user_id: previous,
    user_id: next,
    previous_parent_user_id: PARENT_BSUID,
    parent_user_id: PARENT_BSUID,
  },
});

/** A text message the business sent from the WhatsApp Business app to a username-only user. */
export const messageEcho = (wamid: string, text: string, toUserId = BSUID) => ({
  message_echoes: [
    {
      from: '15550783881',
      to_user_id: toUserId,
      id: wamid,
      timestamp: '1780000200',
      type: 'text',
      text: { body: text },
    },
  ],
});

/** One history chunk: a thread with a phone customer, one message each way. */
export const historyChunk = (phone: string) => ({
  history: [
    {
      metadata: { phase: 0, chunk_order: 1, progress: 100 },
      threads: [
        {
          id: phone,
          messages: [
            {
              from: phone,
              id: 'wamid.hist-in',
              timestamp: '1770000000',
              type: 'text',
              text: { body: 'do you open on sundays?' },
              history_context: { status: 'READ' },
            },
            {
              from: '15550783881',
              to: phone,
              id: 'wamid.hist-out',
              timestamp: '1770000060',
              type: 'text',
              text: { body: 'from 10 to 4' },
              history_context: { status: 'DELIVERED' },
            },
          ],
        },
      ],
    },
  ],
});

/** A user-initiated call by a username-only user: connect, then terminate. */
export const callEvent = (event: 'connect' | 'terminate', userId = BSUID) => ({
  contacts: [{ profile: { name: 'Kerry Fisher', username: USERNAME }, user_id: userId }],
  calls: [
    {
      id: 'wacid.HBgNNjI4MTM2MTkwNTEzMxrtLopSdPMwd',
      from_user_id: userId,
      to: '15550783881',
      event,
      timestamp: event === 'connect' ? '1780000300' : '1780000333',
      direction: 'USER_INITIATED',
      ...(event === 'terminate'
        ? { status: 'COMPLETED', start_time: '1780000300', end_time: '1780000333', duration: 33 }
        : {}),
    },
  ],
});

/** Account-level changes: no metadata, the WABA in `entry[].id`. */
export const accountChanges = {
  account_update: { phone_number: '15550783881', event: 'VERIFIED_ACCOUNT' },
  message_template_status_update: {
    event: 'APPROVED',
    message_template_id: 594425479261596,
    message_template_name: 'order_update',
    message_template_language: 'en_US',
    reason: 'NONE',
  },
  message_template_quality_update: {
    previous_quality_score: 'GREEN',
    new_quality_score: 'YELLOW',
    message_template_id: 594425479261596,
    message_template_name: 'order_update',
    message_template_language: 'en_US',
  },
  business_capability_update: { max_daily_conversation_per_phone: 1000, max_phone_numbers_per_business: 2 },
  account_alerts: {
    entity_type: 'PHONE_NUMBER',
    entity_id: DEV_PHONE_NUMBER_ID,
    alert_severity: 'WARNING',
    alert_status: 'ACTIVE',
    alert_type: 'OBA_APPROVED',
    alert_description: 'Official business account approved',
  },
} as const;
