/**
 * SMS gateways behind one contract (types.ts): seven.io over HTTP, SMPP, the
 * development gateway that talks to the simulator, and an in-memory one for tests.
 */
export * from './types.js';
export { SevenGateway, SevenWebhookVerifier, RedisNonceStore, MemoryNonceStore, type SevenGatewayOptions, type NonceStore, type WebhookRequest } from './seven/index.js';
export { SmppGateway, type SmppGatewayOptions } from './smpp/index.js';
export { DevGateway, DEV_API_KEY, type DevGatewayOptions } from './dev/index.js';
export { MemorySmsGateway, type SentSms } from './memory/index.js';
