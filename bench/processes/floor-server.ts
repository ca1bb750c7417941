/**
 * The floor for bench/efficiency.ts: the minimum any durable notice ingest
 * must do, as a process of its own. SOAP: node-soap (same WSDL) in a Hono
 * route parses NotifyDocumentsReady; REST: Hono's JSON body. Either way one
 * Redis `SET NX` (idempotency by message id) and one BullMQ `add` (the
 * durable job), then the answer. REDIS_URL from the environment; the URL is
 * sent over IPC.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { serve, type HttpBindings } from '@hono/node-server';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import soap from 'soap';
import { PICKUP_WSDL } from '../../adapters/case-system/wsdl.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl);
const queue = new Queue('floor-notices', { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }) });

async function ingest(messageId: string, payload: unknown): Promise<{ outcome: string; pickupId: string }> {
  const fresh = await redis.set(`floor:msg:${messageId}`, '1', 'EX', 86_400, 'NX');
  if (fresh === null) return { outcome: 'duplicate', pickupId: messageId };
  await queue.add('notice', payload);
  return { outcome: 'created', pickupId: messageId };
}

interface SoapServer {
  _process(input: string, req: IncomingMessage, res: unknown, cb: (result: string, statusCode?: number) => void): void;
}

const operation = async (args: { messageId?: string }): Promise<Record<string, string>> => {
  const messageId = String(args.messageId ?? '');
  const { outcome, pickupId } = await ingest(messageId, args);
  return { outcome, pickupId, messageId, state: 'reserved' };
};
const port = { NotifyDocumentsReady: operation };
const soapServer = await new Promise<SoapServer>((resolve, reject) => {
  // Never listens: the Hono route below hands it the request body.
  const server = soap.listen(createServer(), {
    path: '/soap/v1/pickup',
    services: { PickupService: { PickupSoap11Port: port, PickupSoap12Port: port } },
    xml: readFileSync(PICKUP_WSDL, 'utf8'),
    uri: PICKUP_WSDL,
    suppressStack: true,
    callback: (err: unknown) => (err ? reject(err instanceof Error ? err : new Error('WSDL did not load')) : resolve(server as unknown as SoapServer)),
  });
});

const app = new Hono<{ Bindings: HttpBindings }>();
app.post('/soap/v1/pickup', async (c) => {
  const xml = await c.req.text();
  const { result, status } = await new Promise<{ result: string; status: number }>((resolve) => {
    try {
      soapServer._process(xml, c.env.incoming, c.env.outgoing, (result, statusCode) => resolve({ result, status: statusCode ?? 200 }));
    } catch {
      resolve({ result: 'fault', status: 500 });
    }
  });
  return c.body(result, status as 200, { 'content-type': 'text/xml; charset=utf-8' });
});
app.post('/v1/notices', async (c) => {
  const body = await c.req.json<{ messageId?: string }>();
  const result = await ingest(String(body.messageId ?? ''), body);
  return c.json({ outcome: result.outcome, pickup: { id: result.pickupId, state: 'reserved' } }, result.outcome === 'created' ? 201 : 200);
});

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.send?.({ url: `http://127.0.0.1:${info.port}` });
});
process.once('SIGTERM', () => {
  server.close();
  void Promise.all([queue.close(), redis.quit()]).finally(() => process.exit(0));
});
