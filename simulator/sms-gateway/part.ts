/**
 * The SMS gateway of the zero-config start: the seven.io-compatible API
 * (the middleware's development gateway sends to it), the SMPP SMSC, and a
 * phone inbox per number (GET /inbox, GET /inbox/:number) where testers read
 * the codes. Delivery reports go back to the middleware as signed webhooks.
 */
import { randomBytes } from 'node:crypto';
import type { SimulatorPart } from '../index.js';
import { startSmsGatewaySimulator } from './index.js';

export async function startSmsPart(): Promise<SimulatorPart> {
  const signingSecret = randomBytes(24).toString('base64url');
  const sim = await startSmsGatewaySimulator({ signingSecret });
  return {
    name: 'sms-gateway',
    urls: { 'phone inbox': `${sim.seven.url}/inbox`, 'seven.io API': sim.seven.url, SMPP: `smpp://127.0.0.1:${sim.smpp.port} (dokubox/dev)` },
    shell: { PHONES: sim.seven.url },
    env: { SMS_GATEWAY: 'dev', SMS_DEV_URL: sim.seven.url, SEVEN_WEBHOOK_SECRET: signingSecret },
    ready: (middlewareUrl) => sim.seven.setWebhookUrl(`${middlewareUrl}/sms/v1/seven/webhook`),
    close: () => sim.close(),
  };
}
