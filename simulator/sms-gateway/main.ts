/**
 * Starts the simulated SMS gateways from the command line:
 *   npx tsx simulator/sms-gateway/main.ts
 * Environment: SIM_SMS_HTTP_PORT, SIM_SMS_SMPP_PORT (default 0 = any free
 * port), SIM_SMS_API_KEY (dev), SIM_SMS_SMPP_SYSTEM_ID (dokubox),
 * SIM_SMS_SMPP_PASSWORD (dev), SIM_SMS_WEBHOOK_URL, SIM_SMS_SIGNING_SECRET.
 * Prints one JSON line with the bound ports.
 */
import { startSmsGatewaySimulator } from './index.js';

const env = process.env;
const sim = await startSmsGatewaySimulator({
  seven: { port: Number(env.SIM_SMS_HTTP_PORT ?? 0), apiKey: env.SIM_SMS_API_KEY ?? 'dev' },
  smpp: { port: Number(env.SIM_SMS_SMPP_PORT ?? 0), systemId: env.SIM_SMS_SMPP_SYSTEM_ID ?? 'dokubox', password: env.SIM_SMS_SMPP_PASSWORD ?? 'dev' },
  ...(env.SIM_SMS_WEBHOOK_URL ? { webhookUrl: env.SIM_SMS_WEBHOOK_URL } : {}),
  ...(env.SIM_SMS_SIGNING_SECRET ? { signingSecret: env.SIM_SMS_SIGNING_SECRET } : {}),
});
process.stdout.write(`${JSON.stringify({ sevenUrl: sim.seven.url, httpPort: sim.seven.port, smppPort: sim.smpp.port, inbox: `${sim.seven.url}/inbox` })}\n`);
const stop = () => {
  void sim.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
