/**
 * The development gateway for the zero-config start: the seven.io adapter
 * pointed at the simulator's seven.io-compatible API with the simulator's
 * dev key. Messages land in the simulator's phone inbox
 * (`GET {simulator}/inbox/:number`). Using the real adapter rather than a
 * shortcut means the zero-config start exercises the same code, answers and
 * error mapping as production.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../../src/core/clock.js';
import { SevenGateway } from '../seven/gateway.js';
import type { NonceStore } from '../seven/webhook.js';

export const DEV_API_KEY = 'dev';

export interface DevGatewayOptions {
  /** The simulator's HTTP base URL, e.g. `http://127.0.0.1:4010`. */
  simulatorUrl: string;
  apiKey?: string;
  clock: Clock;
  logger: Logger;
  webhook?: { signingSecret: string; nonces: NonceStore; publicUrl?: string };
}

export class DevGateway extends SevenGateway {
  override readonly name: string = 'dev';

  constructor(options: DevGatewayOptions) {
    super({
      apiKey: options.apiKey ?? DEV_API_KEY,
      baseUrl: options.simulatorUrl,
      timeoutMs: 5_000,
      clock: options.clock,
      logger: options.logger,
      ...(options.webhook ? { webhook: options.webhook } : {}),
    });
  }
}
