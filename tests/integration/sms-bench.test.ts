import { describe, expect, inject, it } from 'vitest';
import { benchSms } from '../../bench/sms.js';

describe('SMS benchmark', () => {
  it('runs a small batch and reports throughput and latency', async () => {
    const summary = await benchSms(inject('redisUrl'), { messages: 30, concurrency: 4 });
    expect(summary).toMatch(/30 messages/);
    expect(summary).toMatch(/failed 0, in inbox 30/);
    expect(summary).toMatch(/p95 [\d.]+ ms/);
  });
});
