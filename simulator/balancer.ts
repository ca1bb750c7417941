/**
 * A minimal HTTP load balancer for multi-instance tests and scenarios
 * (simulator/scenario/), as one would run in
 * front of several service instances: round robin over the backends that are
 * up; a backend that refuses the connection (stopped or killed) is skipped.
 * A backend that dies while it has the request yields 502, so the caller
 * decides whether to resend (as a real client behind a real balancer must).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Balancer {
  url: string;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length', 'upgrade']);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function refused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}

export async function startBalancer(backends: () => string[]): Promise<Balancer> {
  let next = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      const pool = backends();
      for (let i = 0; i < pool.length; i += 1) {
        const backend = pool[(next + i) % pool.length] as string;
        try {
          const response = await fetch(`${backend}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(body.length > 0 ? { body: new Uint8Array(body) } : {}) });
          next = (next + i + 1) % Math.max(1, pool.length);
          const answer = Buffer.from(await response.arrayBuffer());
          const out: Record<string, string> = {};
          response.headers.forEach((value, name) => {
            if (!HOP_BY_HOP.has(name) && name !== 'content-encoding') out[name] = value;
          });
          res.writeHead(response.status, out).end(answer);
          return;
        } catch (error) {
          if (refused(error)) continue;
          res.writeHead(502, { 'content-type': 'text/plain' }).end('backend failed while handling the request');
          return;
        }
      }
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('no backend is up');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
