import { park } from '@switchboard/platform';
import type { Channel, ResolveChannel } from './channels.ts';
import type { Prepared } from './route.ts';

/** How each provider's account is named in a reason an operator reads. */
const accountNames: Record<string, string> = {
  whatsapp: 'WhatsApp channel for phone_number_id',
  mailgun: 'Mailgun channel for domain',
  genesys: 'Genesys integration',
  helpdesk: 'helpdesk account',
  agent_desk: 'agent-desk account',
};

/**
 * The active channel that claims a provider account, or why the event is parked instead:
 * `unknown_channel` (no channel) or `channel_disabled`. Every kind of event is treated alike,
 * messages, statuses and receipts: nothing is applied for a channel an operator turned off, and
 * nothing is lost (the consumer copies it to the parking queue and counts it by provider). Both
 * workers resolve through this one function, so either parks such an event alike.
 */
export async function activeChannel(
  deps: { resolveChannel: ResolveChannel },
  provider: string,
  accountId: string,
): Promise<Prepared<Channel>> {
  const channel = await deps.resolveChannel(provider, accountId);
  if (!channel) {
    const name = accountNames[provider] ?? `${provider} account`;
    return { ok: false, outcome: park(`unknown_channel: no ${name} ${accountId}`, { provider }) };
  }
  if (channel.status !== 'active') {
    return {
      ok: false,
      outcome: park(`channel_disabled: channel ${channel.id} is ${channel.status}`, { provider }),
    };
  }
  return { ok: true, value: channel };
}
