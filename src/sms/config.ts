/**
 * The SMS part of the environment as a zod schema, for the core's one
 * environment schema to merge (`envSchema.extend(smsEnvShape)` plus
 * `checkSmsEnv` in its superRefine), and the factories that turn the parsed
 * values into a gateway and queue options. Reads no environment itself.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DevGateway } from '../../adapters/sms/dev/index.js';
import { SevenGateway } from '../../adapters/sms/seven/gateway.js';
import { RedisNonceStore } from '../../adapters/sms/seven/webhook.js';
import { SmppGateway } from '../../adapters/sms/smpp/gateway.js';
import { validateSender, type SmsGateway } from '../../adapters/sms/types.js';
import type { Clock } from '../core/clock.js';
import { parseQuietHours } from './quiet-hours.js';
import type { SmsQueueOptions } from './queue.js';

const int = (min: number) => z.coerce.number().int().min(min);
const flag = z
  .enum(['true', 'false', '1', '0'])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

export const smsEnvShape = {
  SMS_GATEWAY: z.enum(['dev', 'seven', 'smpp']).default('dev'),
  SMS_SENDER: z
    .string()
    .default('DokuBox')
    .refine((s) => validateSender(s) === undefined, 'SMS_SENDER must be at most 11 letters/digits or at most 16 digits'),
  SMS_DEV_URL: z.url().optional(),
  SEVEN_API_KEY: z.string().min(1).optional(),
  SEVEN_BASE_URL: z.url().default('https://gateway.seven.io'),
  SEVEN_TIMEOUT_MS: int(100).default(10_000),
  SEVEN_TTL_MINUTES: int(1).optional(),
  SEVEN_WEBHOOK_SECRET: z.string().min(16, 'SEVEN_WEBHOOK_SECRET must have at least 16 characters').optional(),
  SEVEN_WEBHOOK_PUBLIC_URL: z.url().optional(),
  SEVEN_WEBHOOK_MAX_AGE_S: int(10).default(300),
  SMPP_HOST: z.string().min(1).optional(),
  SMPP_PORT: int(1).max(65_535).default(2775),
  SMPP_SYSTEM_ID: z.string().min(1).max(16).optional(),
  SMPP_PASSWORD: z.string().min(1).max(9).optional(),
  SMPP_SYSTEM_TYPE: z.string().max(13).default(''),
  SMPP_ENQUIRE_LINK_MS: int(1_000).default(30_000),
  SMPP_RESPONSE_TIMEOUT_MS: int(100).default(10_000),
  SMPP_GSM_DATA_CODING: int(0).max(255).default(0),
  SMPP_RECEIPT_IDS: z.enum(['none', 'hex-to-decimal', 'decimal-to-hex']).default('none'),
  SMS_RATE_LIMIT: int(1).default(10),
  SMS_QUIET_HOURS: z
    .string()
    .default('20:00-08:00')
    .refine((text) => {
      try {
        parseQuietHours(text);
        return true;
      } catch {
        return false;
      }
    }, 'SMS_QUIET_HOURS must look like 20:00-08:00 or be off'),
  SMS_ATTEMPTS: int(1).max(50).default(12),
  SMS_BACKOFF_BASE_MS: int(100).default(5_000),
  SMS_BACKOFF_MAX_MS: int(1_000).default(900_000),
  SMS_RETRY_AMBIGUOUS: flag,
  SMS_CONCURRENCY: int(1).max(100).default(4),
  SMS_REMINDER_WORKING_DAYS: int(0).max(10).default(2),
  SMS_KEEP_DAYS: int(14).default(60),
  SMS_TEMPLATE_DIR: z.string().min(1).optional(),
};

export const smsEnvSchema = z.object(smsEnvShape).superRefine((env, ctx) => checkSmsEnv(env, ctx));
export type SmsEnv = z.output<typeof smsEnvSchema>;

/** Cross-field rules: the chosen gateway's credentials must be there. */
export function checkSmsEnv(env: Pick<SmsEnv, 'SMS_GATEWAY' | 'SEVEN_API_KEY' | 'SMPP_HOST' | 'SMPP_SYSTEM_ID' | 'SMPP_PASSWORD'>, ctx: z.RefinementCtx): void {
  if (env.SMS_GATEWAY === 'seven' && !env.SEVEN_API_KEY) ctx.addIssue({ code: 'custom', path: ['SEVEN_API_KEY'], message: 'SEVEN_API_KEY is required when SMS_GATEWAY=seven' });
  if (env.SMS_GATEWAY === 'smpp') {
    for (const key of ['SMPP_HOST', 'SMPP_SYSTEM_ID', 'SMPP_PASSWORD'] as const) {
      if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: `${key} is required when SMS_GATEWAY=smpp` });
    }
  }
}

export interface SmsGatewayDeps {
  clock: Clock;
  logger: Logger;
  /** For webhook nonces; without it seven.io webhooks are refused. */
  redis?: Redis;
  /** Namespace of the nonce keys (REDIS_KEY_PREFIX). */
  keyPrefix?: string;
  /** The simulator's URL for the dev gateway when SMS_DEV_URL is not set. */
  devUrl?: string;
}

export function createSmsGateway(env: SmsEnv, deps: SmsGatewayDeps): SmsGateway {
  const webhook =
    env.SEVEN_WEBHOOK_SECRET && deps.redis
      ? {
          signingSecret: env.SEVEN_WEBHOOK_SECRET,
          nonces: new RedisNonceStore(deps.redis, `${deps.keyPrefix ?? 'dokubox'}:sms:nonce:`),
          maxAgeSeconds: env.SEVEN_WEBHOOK_MAX_AGE_S,
          ...(env.SEVEN_WEBHOOK_PUBLIC_URL ? { publicUrl: env.SEVEN_WEBHOOK_PUBLIC_URL } : {}),
        }
      : undefined;
  switch (env.SMS_GATEWAY) {
    case 'seven':
      return new SevenGateway({
        apiKey: env.SEVEN_API_KEY ?? '',
        baseUrl: env.SEVEN_BASE_URL,
        timeoutMs: env.SEVEN_TIMEOUT_MS,
        clock: deps.clock,
        logger: deps.logger,
        ...(env.SEVEN_TTL_MINUTES === undefined ? {} : { ttlMinutes: env.SEVEN_TTL_MINUTES }),
        ...(webhook ? { webhook } : {}),
      });
    case 'smpp':
      return new SmppGateway({
        host: env.SMPP_HOST ?? '',
        port: env.SMPP_PORT,
        systemId: env.SMPP_SYSTEM_ID ?? '',
        password: env.SMPP_PASSWORD ?? '',
        systemType: env.SMPP_SYSTEM_TYPE,
        enquireLinkMs: env.SMPP_ENQUIRE_LINK_MS,
        responseTimeoutMs: env.SMPP_RESPONSE_TIMEOUT_MS,
        gsmDataCoding: env.SMPP_GSM_DATA_CODING,
        receiptIds: env.SMPP_RECEIPT_IDS,
        logger: deps.logger,
      });
    case 'dev': {
      const url = env.SMS_DEV_URL ?? deps.devUrl;
      if (!url) throw new Error('SMS_DEV_URL is not set: SMS_GATEWAY=dev sends to the simulator (npm start sets it); set SMS_DEV_URL or choose SMS_GATEWAY=seven or smpp');
      return new DevGateway({ simulatorUrl: url, clock: deps.clock, logger: deps.logger, ...(webhook ? { webhook } : {}) });
    }
  }
}

/** The queue settings from the environment; the caller adds connection, gateway, reader, onOutcome, templates, logger, clock. */
export function smsQueueSettings(env: SmsEnv): Pick<SmsQueueOptions, 'sender' | 'rateLimit' | 'quietHours' | 'attempts' | 'backoff' | 'retryAmbiguous' | 'concurrency' | 'keepDays'> {
  return {
    sender: env.SMS_SENDER,
    rateLimit: { max: env.SMS_RATE_LIMIT, durationMs: 1_000 },
    quietHours: parseQuietHours(env.SMS_QUIET_HOURS) ?? null,
    attempts: env.SMS_ATTEMPTS,
    backoff: { baseMs: env.SMS_BACKOFF_BASE_MS, maxMs: env.SMS_BACKOFF_MAX_MS },
    retryAmbiguous: env.SMS_RETRY_AMBIGUOUS,
    concurrency: env.SMS_CONCURRENCY,
    keepDays: env.SMS_KEEP_DAYS,
  };
}
