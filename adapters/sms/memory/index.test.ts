import { describe, expect, it } from 'vitest';
import { SmsSendError, type DeliveryReport } from '../types.js';
import { MemorySmsGateway } from './index.js';

describe('in-memory SMS gateway', () => {
  it('accepts, fails on request and plays delivery reports back', async () => {
    const gateway = new MemorySmsGateway();
    const reports: DeliveryReport[] = [];
    gateway.onDeliveryReport((r) => {
      reports.push(r);
    });
    const first = await gateway.send({ to: '+4915112345678', text: 'Код 123456', sender: 'DokuBox', foreignId: 'p.ready' });
    expect(first).toEqual({ providerMessageId: 'mem-1', parts: 1, encoding: 'ucs2' });
    gateway.failNext(new SmsSendError('no_credit', 'test'));
    await expect(gateway.send({ to: '+4915112345678', text: 'x', sender: 'DokuBox', foreignId: 'p.reminder' })).rejects.toMatchObject({ reason: 'no_credit' });
    await gateway.report('mem-1', 'delivered');
    expect(gateway.sent).toHaveLength(1);
    expect(reports).toEqual([{ gateway: 'memory', providerMessageId: 'mem-1', status: 'delivered', providerStatus: 'DELIVERED' }]);
  });
});
