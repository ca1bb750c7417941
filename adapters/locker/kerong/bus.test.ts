/**
 * Bus behaviour that needs no boards: connecting with backoff, refusing
 * commands while disconnected, timeouts against a silent peer.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { KerongBus } from './bus.js';
import { queryBoard, toHex } from './codec.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function bus(port: number, replyTimeoutMs = 50): KerongBus {
  const b = new KerongBus({ gatewayId: 'gw1', host: '127.0.0.1', port, replyTimeoutMs, drainMs: 10, reconnectInitialMs: 10, reconnectMaxMs: 40, connectTimeoutMs: 500, logger });
  cleanups.push(() => b.stop());
  return b;
}

async function server(port = 0): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const s = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        s.close(resolve);
      }),
  );
  const address = s.address();
  return { server: s, port: typeof address === 'object' && address ? address.port : 0, sockets };
}

describe('KerongBus', () => {
  it('refuses commands while not connected instead of queueing them', async () => {
    const { port, server: s } = await server();
    await new Promise((resolve) => s.close(resolve));
    const b = bus(port);
    b.start();
    await expect(b.unlock(0, 0)).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
  });

  it('keeps retrying the connection and goes online once the gateway is there', async () => {
    const probe = await server();
    const port = probe.port;
    await new Promise((resolve) => probe.server.close(resolve));
    const b = bus(port);
    b.start();
    // Nothing listens yet; start listening on the same port after the first failures.
    const gateway = await server(port);
    const accepted = once(gateway.server, 'connection');
    await once(b, 'online');
    expect(b.online).toBe(true);
    await accepted;
  });

  it('times out against a silent peer, reports the frame, and signals offline when the peer hangs up', async () => {
    const gateway = await server();
    const accepted = once(gateway.server, 'connection');
    const b = bus(gateway.port, 40);
    const online = once(b, 'online');
    b.start();
    await online;
    const [peer] = (await accepted) as [Socket];
    const received = once(peer, 'data');
    const failed = b.query(2).catch((e: unknown) => e);
    expect(toHex((await received)[0] as Buffer)).toBe(toHex(queryBoard(2)));
    const error = (await failed) as Error & { code: string };
    expect(error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(error.message).toContain('02 20 30 03 55');
    const offline = once(b, 'offline');
    peer.destroy();
    expect(await offline).toEqual(['connection_lost']);
  });
});
