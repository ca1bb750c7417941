/**
 * seven.io gateway: sending over the HTTP API and verified delivery-report
 * webhooks.
 *
 * @example
 * const gateway = new SevenGateway({ apiKey, clock, logger, webhook: { signingSecret, nonces: new RedisNonceStore(redis) } });
 * app.post('/webhooks/sms/seven', async (c) => {
 *   const answer = await gateway.handleWebhook({ method: 'POST', url: c.req.url, headers: c.req.raw.headers, body: await c.req.text() });
 *   return c.text(answer.body, answer.status as 200);
 * });
 */
export { SevenGateway, SEVEN_DEFAULT_BASE_URL, type SevenGatewayOptions } from './gateway.js';
export { reasonForSevenCode, statusForSeven } from './codes.js';
export {
  SevenWebhookVerifier,
  RedisNonceStore,
  MemoryNonceStore,
  signSevenWebhook,
  parseSevenWebhookBody,
  type NonceStore,
  type WebhookRequest,
  type WebhookVerification,
  type WebhookRefusal,
  type SevenWebhookVerifierOptions,
} from './webhook.js';
