/**
 * The simulated SMS gateways: a seven.io-compatible HTTP API and an SMPP
 * SMSC sharing one phone inbox. Every server listens on port 0 (any free
 * port) unless told otherwise and reports the port it got.
 *
 * @example
 * const sim = await startSmsGatewaySimulator({ signingSecret: 's', webhookUrl: 'http://127.0.0.1:3000/webhooks/sms/seven' });
 * // seven.io adapter: baseUrl sim.seven.url, apiKey 'dev'; SMPP adapter: port sim.smpp.port, dokubox/dev
 * const [sms] = await sim.inbox.waitFor('+4915112345678');
 */
import { PhoneInbox } from './inbox.js';
import { startSevenSimulator, type SevenSimulator, type SevenSimulatorOptions } from './seven-server.js';
import { startSmppSimulator, type SmppSimulator, type SmppSimulatorOptions } from './smpp-server.js';

export { PhoneInbox, type InboxMessage } from './inbox.js';
export { startSevenSimulator, type SevenSimulator, type SevenSimulatorOptions, type SevenBehaviour } from './seven-server.js';
export { startSmppSimulator, type SmppSimulator, type SmppSimulatorOptions } from './smpp-server.js';

export interface SmsGatewaySimulator {
  inbox: PhoneInbox;
  seven: SevenSimulator;
  smpp: SmppSimulator;
  close(): Promise<void>;
}

export async function startSmsGatewaySimulator(
  options: { seven?: Omit<SevenSimulatorOptions, 'inbox'>; smpp?: Omit<SmppSimulatorOptions, 'inbox'> } & Pick<SevenSimulatorOptions, 'webhookUrl' | 'signingSecret'> = {},
): Promise<SmsGatewaySimulator> {
  const inbox = new PhoneInbox();
  const seven = await startSevenSimulator({
    ...options.seven,
    inbox,
    ...(options.webhookUrl === undefined ? {} : { webhookUrl: options.webhookUrl }),
    ...(options.signingSecret === undefined ? {} : { signingSecret: options.signingSecret }),
  });
  const smpp = await startSmppSimulator({ ...options.smpp, inbox });
  return {
    inbox,
    seven,
    smpp,
    close: async () => {
      await Promise.all([seven.close(), smpp.close()]);
    },
  };
}
