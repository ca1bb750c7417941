/**
 * SOAP ingestion benchmark: NotifyDocumentsReady over SOAP 1.1 at rising
 * fixed rates against a running middleware, and the same requests against a
 * bare node-soap service (same WSDL, handler answers at once) in the same
 * run, to show what the middleware adds on top of SOAP handling itself.
 * Returns printable lines; asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import soap from 'soap';
import { PICKUP_WSDL } from '../adapters/case-system/wsdl.js';

export interface SoapBenchOptions {
  rates?: number[];
  seconds?: number;
  authority?: string;
  boxId?: string;
  connections?: number;
}

const SERIAL = 'CFGHJKLMNPRTVWXYZ0123456789';

function notice(i: number, run: string, authority: string, boxId: string): string {
  let serial = '';
  for (let n = i + 1, k = 0; k < 9; k++, n = Math.floor(n / SERIAL.length) + k) serial += SERIAL[n % SERIAL.length];
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:p="urn:dokubox:pickup:1"><soap:Body><p:NotifyDocumentsReady><p:messageId>BENCH-${run}-${i}</p:messageId><p:authority>${authority}</p:authority><p:caseNumber>34.2-${i}/26</p:caseNumber><p:boxId>${boxId}</p:boxId><p:person><p:familyName>Kovačević</p:familyName><p:givenNames>Ana</p:givenNames><p:dateOfBirth>1990</p:dateOfBirth></p:person><p:documents><p:document><p:type>eAT</p:type><p:serialNumber>${serial}</p:serialNumber></p:document></p:documents><p:mobile>+4915123456789</p:mobile><p:consent>true</p:consent></p:NotifyDocumentsReady></soap:Body></soap:Envelope>`;
}

async function step(url: string, headers: Record<string, string>, rate: number, seconds: number, connections: number, run: string, authority: string, boxId: string): Promise<string> {
  let counter = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    overallRate: rate,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8', ...headers },
        setupRequest: (request) => ({ ...request, body: notice(counter++, run, authority, boxId) }),
      },
    ],
  });
  const ok = result['2xx'];
  return `  ${String(rate).padStart(5)} req/s offered  ${result.requests.average.toFixed(0).padStart(5)} req/s done  p50 ${String(result.latency.p50).padStart(4)} ms  p99 ${String(result.latency.p99).padStart(4)} ms  2xx ${ok}  non-2xx ${result.non2xx}  errors ${result.errors}`;
}

/** A node-soap service on pickup.wsdl that answers NotifyDocumentsReady at once. */
async function startEchoService(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer();
  const reply = (args: { messageId?: string }): Record<string, string> => ({ outcome: 'created', pickupId: 'echo', messageId: args.messageId ?? '', state: 'waiting' });
  const port = { NotifyDocumentsReady: reply };
  await new Promise<void>((resolve, reject) => {
    soap.listen(server, {
      path: '/soap/v1/pickup',
      services: { PickupService: { PickupSoap11Port: port, PickupSoap12Port: port } },
      xml: readFileSync(PICKUP_WSDL, 'utf8'),
      uri: PICKUP_WSDL,
      suppressStack: true,
      callback: (err: unknown) => (err ? reject(err instanceof Error ? err : new Error('WSDL did not load')) : resolve()),
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/soap/v1/pickup`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * `baseUrl` is the middleware's origin; `credentials` a case-system client
 * allowed to notify for `authority` (HTTP Basic).
 */
export async function benchSoap(baseUrl: string, credentials: { username: string; password: string }, options: SoapBenchOptions = {}): Promise<string> {
  const rates = options.rates ?? [50, 100, 200, 400];
  const seconds = options.seconds ?? 5;
  const connections = options.connections ?? 16;
  const authority = options.authority ?? 'magdeburg-abh';
  const boxId = options.boxId ?? 'md-foyer';
  const run = Math.random().toString(36).slice(2, 8);
  const auth = { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` };
  const lines = ['SOAP NotifyDocumentsReady (dokubox)'];
  for (const rate of rates) lines.push(await step(`${baseUrl.replace(/\/$/, '')}/soap/v1/pickup`, auth, rate, seconds, connections, `${run}-${rate}`, authority, boxId));
  const echo = await startEchoService();
  try {
    lines.push('SOAP NotifyDocumentsReady (bare node-soap echo, same WSDL)');
    for (const rate of rates) lines.push(await step(echo.url, {}, rate, seconds, connections, `echo-${run}-${rate}`, authority, boxId));
  } finally {
    await echo.close();
  }
  return lines.join('\n');
}
