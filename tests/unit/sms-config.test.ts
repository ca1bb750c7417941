import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createSmsGateway, smsEnvSchema, smsQueueSettings } from '../../src/sms/config.js';

const deps = { clock: new ManualClock(), logger: pino({ level: 'silent' }) };

describe('SMS configuration', () => {
  it('has working defaults for the zero-config start', () => {
    const env = smsEnvSchema.parse({});
    expect(env).toMatchObject({ SMS_GATEWAY: 'dev', SMS_SENDER: 'DokuBox', SMS_QUIET_HOURS: '20:00-08:00', SMS_RETRY_AMBIGUOUS: false, SMS_REMINDER_WORKING_DAYS: 2 });
    expect(smsQueueSettings(env)).toMatchObject({ quietHours: { start: '20:00', end: '08:00' }, rateLimit: { max: 10, durationMs: 1000 }, attempts: 12 });
    expect(createSmsGateway(env, { ...deps, devUrl: 'http://127.0.0.1:1' }).name).toBe('dev');
  });

  it('requires the credentials of the chosen gateway', () => {
    expect(smsEnvSchema.safeParse({ SMS_GATEWAY: 'seven' }).error?.issues[0]?.path).toEqual(['SEVEN_API_KEY']);
    expect(smsEnvSchema.safeParse({ SMS_GATEWAY: 'smpp', SMPP_HOST: 'smsc' }).error?.issues.map((i) => i.path[0])).toEqual(['SMPP_SYSTEM_ID', 'SMPP_PASSWORD']);
    const seven = smsEnvSchema.parse({ SMS_GATEWAY: 'seven', SEVEN_API_KEY: 'k', SMS_QUIET_HOURS: 'off', SMS_RETRY_AMBIGUOUS: 'true' });
    expect(createSmsGateway(seven, deps).name).toBe('seven');
    expect(smsQueueSettings(seven)).toMatchObject({ quietHours: null, retryAmbiguous: true });
  });

  it('refuses sender ids longer than 11 characters and malformed quiet hours', () => {
    expect(smsEnvSchema.safeParse({ SMS_SENDER: 'Auslaenderbehoerde' }).success).toBe(false);
    expect(smsEnvSchema.safeParse({ SMS_QUIET_HOURS: '8pm-8am' }).success).toBe(false);
  });
});
