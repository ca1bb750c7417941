/**
 * The only place that reads the environment: one zod schema, the config type
 * is inferred from it. A wrong value stops start-up with a message naming the
 * variable. Every variable is listed in the README.
 */
import { z } from 'zod';
import { describeIssue } from './core/validation.js';
import { caseSystemEnvSchema } from './case-system/config.js';
import { checkSmsEnv, smsEnvShape } from './sms/config.js';
import { ROLES } from './service/types.js';
import { MAX_WORLD_SPEED } from './store/world-clock.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const base64Key = (bytes: number, name: string) =>
  z
    .string()
    .min(1)
    .refine((v) => Buffer.from(v, 'base64').length >= bytes, `${name} must be at least ${bytes} bytes, base64-encoded (generate one with: openssl rand -base64 ${bytes})`);

const apiKeySchema = z.strictObject({
  id: z.string().min(1).max(64),
  role: z.enum(ROLES),
  authority: z.string().min(1).max(64),
  /** SHA-256 of the key, hex. The key itself never sits in configuration. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex characters (echo -n KEY | sha256sum)'),
});
export type ApiKeyEntry = z.infer<typeof apiKeySchema>;

/** A variable holding JSON, validated by `schema`; `shape` tells what was expected. */
function jsonVariable<T extends z.ZodType>(schema: T, shape: string) {
  return z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be JSON: ${shape}` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.hostname !== '' && /^\/?(\d{1,2})?$/.test(url.pathname) && url.search === '';
  } catch {
    return false;
  }
}

/** `host:port` or `[ipv6]:port`. */
const SENTINEL_ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/;

function parseSentinelAddress(text: string): { host: string; port: number } {
  const match = SENTINEL_ADDRESS.exec(text);
  const host = (match?.[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(match?.[2]) };
}

const apiKeys = jsonVariable(z.array(apiKeySchema), 'an array of {id, role, authority, sha256}');

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PUBLIC_URL: z.url().optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'REDIS_URL must start with redis:// or rediss://')
    .refine(isRedisUrl, 'REDIS_URL must look like redis://[user:password@]host[:port][/db] (db a number)')
    .optional(),
  REDIS_SENTINELS: z
    .string()
    .transform((text) => text.split(',').map((s) => s.trim()).filter((s) => s !== ''))
    .pipe(z.array(z.string().regex(SENTINEL_ADDRESS, 'REDIS_SENTINELS must be a comma-separated list of host:port (e.g. 10.0.0.1:26379,10.0.0.2:26379)')).min(1))
    .transform((list) => list.map(parseSentinelAddress))
    .optional(),
  REDIS_SENTINEL_NAME: z.string().regex(/^[A-Za-z0-9._-]+$/, 'REDIS_SENTINEL_NAME is the master name of the Sentinel configuration (letters, digits, . _ -)').optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).optional(),
  REDIS_WAIT_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  REDIS_WAIT_CONNECTIONS: z.coerce.number().int().min(1).max(64).default(4),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]+$/).default('dokubox'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  SECRET_KEY: base64Key(32, 'SECRET_KEY'),
  PII_KEY: base64Key(32, 'PII_KEY').refine((v) => Buffer.from(v, 'base64').length === 32, 'PII_KEY must be exactly 32 bytes, base64-encoded (openssl rand -base64 32)'),
  API_KEYS: apiKeys.default([]),
  BOXES_DIR: z.string().default('mappings/boxes'),
  DOCUMENT_TYPES_FILE: z.string().default('mappings/document-types.yaml'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
  IDEMPOTENCY_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(180),
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  EXPIRY_SWEEP_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).max(600_000).default(5000),
  DOCS_ENABLED: bool.default(true),
  LOCKERS_ENABLED: bool.default(true),
  LOCKER_ENDPOINTS: jsonVariable(
    z.record(z.string().regex(/^[^/]+\/[^/]+$/, 'keys are box/gateway'), z.string().regex(/^[^:]+:\d{1,5}$/, 'values are host:port')),
    'an object like {"md-foyer/gw1":"127.0.0.1:5000"}',
  ).default({}),
  LOCKER_DOOR_OPEN_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  LOCKER_DOOR_LEFT_OPEN_MS: z.coerce.number().int().min(1000).default(120_000),
  LOCKER_LEASE_TTL_MS: z.coerce.number().int().min(500).default(10_000),
  BOX_OPENING_HOURS: z.enum(['enforce', 'ignore']).default('enforce'),
  KIOSK_SECURE_COOKIES: bool.optional(),
  KIOSK_FRAME_ANCESTORS: z
    .string()
    .transform((text) => text.split(',').map((s) => s.trim()).filter((s) => s !== ''))
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'KIOSK_FRAME_ANCESTORS is a comma-separated list of origins such as http://127.0.0.1:8090' }).transform((u) => new URL(u).origin)))
    .default([]),
  SECURE_COOKIES: bool.optional(),
  DASHBOARD_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(480).default(30),
  DASHBOARD_SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(24).default(8),
  I18N_DIR: z.string().default('mappings/i18n'),
  SIMULATED_TIME: bool.default(false),
  SIMULATED_TIME_START: z
    .string()
    .refine((v) => /(Z|[+-]\d{2}:?\d{2})$/i.test(v) && !Number.isNaN(Date.parse(v)), 'must be ISO 8601 with a time zone, e.g. 2026-12-16T10:00:00+01:00')
    .optional(),
  SIMULATED_TIME_SPEED: z.coerce.number().min(0).max(MAX_WORLD_SPEED).optional(),
})
  .extend(caseSystemEnvSchema.shape)
  .extend(smsEnvShape)
  .superRefine((env, ctx) => checkSmsEnv(env, ctx))
  .superRefine((env, ctx) => checkDevelopmentOnly(env, ctx))
  // Runs even when other variables failed, so that a missing Redis is named with them.
  .superRefine((env, ctx) => checkRedisEnv(env, ctx), { when: () => true });

/** The development SMS gateway talks to the simulator, which production does not run; simulated time exists only in the simulated world. */
function checkDevelopmentOnly(
  env: { NODE_ENV: string; SMS_GATEWAY: string; BOX_OPENING_HOURS: string; SIMULATED_TIME: boolean; SIMULATED_TIME_START?: string | undefined; SIMULATED_TIME_SPEED?: number | undefined },
  ctx: z.RefinementCtx,
): void {
  if (env.SIMULATED_TIME && env.NODE_ENV === 'production') {
    ctx.addIssue({ code: 'custom', path: ['SIMULATED_TIME'], message: 'must be false in production (simulated time runs deadlines, reminders and expiries faster than real time); see docs/simulated-time.md' });
  }
  for (const name of ['SIMULATED_TIME_START', 'SIMULATED_TIME_SPEED'] as const) {
    if (env[name] !== undefined && !env.SIMULATED_TIME) ctx.addIssue({ code: 'custom', path: [name], message: 'takes effect only with SIMULATED_TIME=true; remove it or set SIMULATED_TIME' });
  }
  if (env.BOX_OPENING_HOURS === 'ignore' && env.NODE_ENV === 'production') {
    ctx.addIssue({ code: 'custom', path: ['BOX_OPENING_HOURS'], message: 'must be enforce in production (ignore lets the simulated box open at night)' });
  }
  if (env.SMS_GATEWAY === 'dev' && env.NODE_ENV === 'production') {
    ctx.addIssue({ code: 'custom', path: ['SMS_GATEWAY'], message: 'must be seven or smpp in production (the default dev sends to the simulator, which production does not run); see docs/sms.md' });
  }
}

/** Either REDIS_URL or Sentinel; a Sentinel needs the master's name. */
function checkRedisEnv(env: { REDIS_URL?: unknown; REDIS_SENTINELS?: unknown; REDIS_SENTINEL_NAME?: unknown }, ctx: z.RefinementCtx): void {
  if (env.REDIS_URL === undefined && env.REDIS_SENTINELS === undefined) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'is required (redis://host:6379), or set REDIS_SENTINELS and REDIS_SENTINEL_NAME' });
  }
  if (env.REDIS_SENTINELS !== undefined && env.REDIS_SENTINEL_NAME === undefined) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINEL_NAME'], message: 'is required with REDIS_SENTINELS: the master name the sentinels monitor (sentinel monitor <name> ...)' });
  }
}

export type Env = z.input<typeof envSchema>;
export type Config = z.output<typeof envSchema>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`the configuration is invalid, fix these environment variables: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (defaults to process.env); throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parseEnv(envSchema, env);
}

const shape = envSchema.shape;
/** What a command-line tool needs to reach the service's Redis (no secrets, no mappings). */
const redisEnvSchema = z
  .object({
    NODE_ENV: shape.NODE_ENV,
    REDIS_URL: shape.REDIS_URL,
    REDIS_SENTINELS: shape.REDIS_SENTINELS,
    REDIS_SENTINEL_NAME: shape.REDIS_SENTINEL_NAME,
    REDIS_SENTINEL_PASSWORD: shape.REDIS_SENTINEL_PASSWORD,
    REDIS_COMMAND_TIMEOUT_MS: shape.REDIS_COMMAND_TIMEOUT_MS,
    REDIS_WAIT_REPLICAS: shape.REDIS_WAIT_REPLICAS,
    REDIS_WAIT_TIMEOUT_MS: shape.REDIS_WAIT_TIMEOUT_MS,
    REDIS_WAIT_CONNECTIONS: shape.REDIS_WAIT_CONNECTIONS,
    REDIS_KEY_PREFIX: shape.REDIS_KEY_PREFIX,
    LOG_LEVEL: shape.LOG_LEVEL,
  })
  .superRefine((env, ctx) => checkRedisEnv(env, ctx), { when: () => true });
export type RedisConfig = z.output<typeof redisEnvSchema>;

/** The Redis part of the configuration, the same variables and checks as the service (for command-line tools such as `npm run accounts`). */
export function loadRedisConfig(env: Record<string, string | undefined> = process.env): RedisConfig {
  return parseEnv(redisEnvSchema, env);
}

function parseEnv<T extends z.ZodType>(schema: T, env: Record<string, string | undefined>): z.output<T> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.map(String).join('.') || '(environment)';
      return `${name}: ${describeIssue(issue, cleaned, { textOnly: true })}`;
    }),
  );
}
