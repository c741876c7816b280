import type { ProviderError, WhatsAppMessageReceived } from '@switchboard/contracts';
import { z } from 'zod';

/**
 * The typed parts of one WhatsApp message object (Cloud API "messages" webhook): media, context,
 * reaction, location, contacts, interactive and button replies, referral, order, system, errors.
 * Each part is read with its own lenient schema; a part that does not match is left in `raw`
 * only, never fatal, so an unknown or changed shape costs a typed field, not the message.
 */

const str = z.string().optional();
const MEDIA_KINDS = ['image', 'audio', 'video', 'document', 'sticker'] as const;
const Media = z.looseObject({
  id: z.string().min(1),
  mime_type: str,
  sha256: str,
  caption: str,
  filename: str,
  voice: z.boolean().optional(),
  animated: z.boolean().optional(),
});
const Context = z.looseObject({
  id: str,
  from: str,
  forwarded: z.boolean().optional(),
  frequently_forwarded: z.boolean().optional(),
  referred_product: z.looseObject({ catalog_id: z.string(), product_retailer_id: z.string() }).optional(),
});
const Text = z.looseObject({ body: z.string() });
const Contacts = z.array(z.record(z.string(), z.unknown())).min(1);
const Reaction = z.looseObject({ message_id: z.string().min(1), emoji: str });
const Location = z.looseObject({
  latitude: z.coerce.number(),
  longitude: z.coerce.number(),
  name: str,
  address: str,
  url: str,
});
const Interactive = z.looseObject({
  type: z.string(),
  button_reply: z.looseObject({ id: str, title: str }).optional(),
  list_reply: z.looseObject({ id: str, title: str, description: str }).optional(),
  nfm_reply: z.looseObject({ name: str, body: str, response_json: str }).optional(),
});
const Button = z.looseObject({ payload: str, text: str });
const Referral = z.looseObject({
  source_url: str,
  source_type: str,
  source_id: str,
  headline: str,
  body: str,
  ctwa_clid: str,
});
const Order = z.looseObject({
  catalog_id: z.string(),
  text: str,
  product_items: z.array(
    z.looseObject({
      product_retailer_id: z.string(),
      quantity: z.coerce.number(),
      item_price: z.coerce.number().optional(),
      currency: str,
    }),
  ),
});
const System = z.looseObject({
  body: str,
  type: str,
  new_wa_id: str,
  wa_id: str,
  user_id: str,
  previous_user_id: str,
  parent_user_id: str,
  previous_parent_user_id: str,
});
const Errors = z.array(
  z.looseObject({
    code: z.union([z.number(), z.string()]).optional(),
    title: str,
    message: str,
    error_data: z.looseObject({ details: str }).optional(),
  }),
);

type Parts = Omit<
  WhatsAppMessageReceived,
  | 'provider'
  | 'accountId'
  | 'displayPhoneNumber'
  | 'businessAccountId'
  | 'from'
  | 'fromUserId'
  | 'fromParentUserId'
  | 'username'
  | 'profileName'
  | 'messageId'
  | 'sentAt'
  | 'type'
  | 'raw'
>;

const compact = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
/**
 * A part read with its schema. Every part's schema is an object or an array, which an absent field
 * never matches: most parts are absent from most messages, so that answer costs no parse (a failed
 * zod parse builds its error, and was most of the edge's validation time).
 */
const part = <S extends z.ZodType>(schema: S, v: unknown): z.infer<S> | undefined => {
  if (v === undefined) return undefined;
  const r = schema.safeParse(v);
  return r.success ? r.data : undefined;
};

export function providerErrors(v: unknown): ProviderError[] | undefined {
  const errors = part(Errors, v)?.map((e) =>
    compact({ code: e.code, title: e.title, message: e.message, details: e.error_data?.details }),
  );
  return errors?.length ? errors : undefined;
}

export function messageParts(type: string, m: Record<string, unknown>): Parts {
  const out: Parts = {};
  const kind = MEDIA_KINDS.find((k) => k === type);
  const media = kind ? part(Media, m[kind]) : undefined;
  if (kind && media) {
    out.media = compact({
      kind,
      id: media.id,
      mimeType: media.mime_type,
      sha256: media.sha256,
      caption: media.caption,
      filename: media.filename,
      voice: media.voice,
      animated: media.animated,
    });
    if (media.caption !== undefined) out.text = media.caption;
  }
  const text = part(Text, m.text);
  if (text) out.text = text.body;
  const context = part(Context, m.context);
  if (context) {
    const c = compact({
      messageId: context.id,
      from: context.from,
      forwarded: context.forwarded,
      frequentlyForwarded: context.frequently_forwarded,
      referredProduct: context.referred_product && {
        catalogId: context.referred_product.catalog_id,
        productRetailerId: context.referred_product.product_retailer_id,
      },
    });
    if (Object.keys(c).length > 0) out.context = c;
  }
  const reaction = part(Reaction, m.reaction);
  if (reaction) {
    // Meta sends an empty emoji (or none) when the customer removes their reaction.
    out.reaction = compact({ messageId: reaction.message_id, emoji: reaction.emoji || undefined });
    if (reaction.emoji) out.text = reaction.emoji;
  }
  const location = part(Location, m.location);
  if (location && Number.isFinite(location.latitude) && Number.isFinite(location.longitude)) {
    out.location = compact({
      latitude: location.latitude,
      longitude: location.longitude,
      name: location.name,
      address: location.address,
      url: location.url,
    });
    if (location.name) out.text = location.name;
  }
  const contacts = part(Contacts, m.contacts);
  if (contacts) out.contacts = contacts;
  Object.assign(out, replyOf(m));
  const referral = part(Referral, m.referral);
  if (referral) {
    out.referral = compact({
      sourceUrl: referral.source_url,
      sourceType: referral.source_type,
      sourceId: referral.source_id,
      headline: referral.headline,
      body: referral.body,
      ctwaClid: referral.ctwa_clid,
    });
  }
  const order = part(Order, m.order);
  if (order) {
    out.order = compact({
      catalogId: order.catalog_id,
      text: order.text,
      items: order.product_items.map((i) =>
        compact({
          productRetailerId: i.product_retailer_id,
          quantity: i.quantity,
          itemPrice: i.item_price,
          currency: i.currency,
        }),
      ),
    });
    if (order.text) out.text = order.text;
  }
  const system = part(System, m.system);
  if (system) {
    out.system = compact({
      type: system.type,
      body: system.body,
      newWaId: system.new_wa_id ?? system.wa_id,
      userId: system.user_id,
      previousUserId: system.previous_user_id,
      parentUserId: system.parent_user_id,
      previousParentUserId: system.previous_parent_user_id,
    });
    if (system.body) out.text = system.body;
  }
  const errors = providerErrors(m.errors);
  if (errors) out.errors = errors;
  return out;
}

function replyOf(m: Record<string, unknown>): Pick<Parts, 'reply' | 'text'> {
  const interactive = part(Interactive, m.interactive);
  if (interactive?.button_reply) {
    const r = interactive.button_reply;
    return { reply: compact({ kind: 'button_reply' as const, id: r.id, title: r.title }), ...textOf(r.title) };
  }
  if (interactive?.list_reply) {
    const r = interactive.list_reply;
    return {
      reply: compact({ kind: 'list_reply' as const, id: r.id, title: r.title, description: r.description }),
      ...textOf(r.title),
    };
  }
  if (interactive?.nfm_reply) {
    const r = interactive.nfm_reply;
    return { reply: compact({ kind: 'nfm_reply' as const, id: r.name, title: r.body }), ...textOf(r.body) };
  }
  const button = part(Button, m.button);
  if (button) {
    return {
      reply: compact({ kind: 'quick_reply' as const, id: button.payload, title: button.text }),
      ...textOf(button.text),
    };
  }
  return {};
}

const textOf = (t: string | undefined) => (t ? { text: t } : {});
