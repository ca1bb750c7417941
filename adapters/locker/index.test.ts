import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { KerongLocker, SmartLocker, createLockerAdapter } from './index.js';

const logger = pino({ level: 'silent' });

describe('createLockerAdapter', () => {
  it('builds a Kerong adapter from a mapping-shaped box', () => {
    const adapter = createLockerAdapter(
      {
        id: 'md-foyer',
        locker: { adapter: 'kerong', lockNumberBase: 0, lockBitOpenValue: 1, pollIntervalMs: 500, gateways: [{ id: 'gw1', host: '127.0.0.1', port: 5000 }] },
        compartments: [{ id: '001', locker: { gateway: 'gw1', board: 0, lock: 0 } }],
      },
      { logger },
    );
    expect(adapter).toBeInstanceOf(KerongLocker);
    expect(adapter.snapshot()).toEqual([{ compartmentId: '001', door: 'unknown', item: 'unknown', enabled: true }]);
  });

  it('builds a smart adapter', () => {
    const adapter = createLockerAdapter(
      { id: 'b', locker: { adapter: 'smart', controllerId: 'c', baseUrl: 'http://127.0.0.1:1', apiKey: 'k', webhookSecret: 'sixteen-chars-min!' }, compartments: [{ id: '001' }] },
      { logger },
    );
    expect(adapter).toBeInstanceOf(SmartLocker);
  });

  it('names the problem in a broken mapping', () => {
    expect(() => createLockerAdapter({ id: 'b', locker: { adapter: 'magic' }, compartments: [] }, { logger })).toThrow(/not known/);
    expect(() =>
      createLockerAdapter({ id: 'b', locker: { gateways: [{ id: 'gw1', host: 'h', port: 1 }] }, compartments: [{ id: '001' }] }, { logger }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'compartments[0].locker' }));
    expect(() => createLockerAdapter({ id: 'b', locker: { gateways: [{ id: 'gw1', host: 'h', port: 0 }] }, compartments: [] }, { logger })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', field: 'locker.gateways.0.port' }),
    );
  });
});
