/**
 * The load generator of bench/efficiency.ts, in a process of its own so that
 * its CPU is not the server's: autocannon with a fresh message id per request.
 * Options as JSON in argv[2]; prints one JSON line with the result.
 */
import autocannon from 'autocannon';

interface LoadOptions {
  url: string;
  kind: 'soap' | 'rest';
  headers: Record<string, string>;
  /** Requests per second; 0 = as fast as the connections go (saturation). */
  rate: number;
  seconds: number;
  connections: number;
  run: string;
  authority: string;
  boxId: string;
}

const o = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
const SERIAL = 'CFGHJKLMNPRTVWXYZ0123456789';

function serialOf(i: number): string {
  let serial = '';
  for (let n = i + 1, k = 0; k < 9; k++, n = Math.floor(n / SERIAL.length) + k) serial += SERIAL[n % SERIAL.length];
  return serial;
}

/** A different valid German mobile number per notice (the middleware validates and normalises each). */
function mobileOf(i: number): string {
  return `+49151${String(10_000_000 + (i % 89_999_999)).padStart(8, '0')}`;
}

function soapBody(i: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:p="urn:dokubox:pickup:1"><soap:Body><p:NotifyDocumentsReady><p:messageId>BENCH-${o.run}-${i}</p:messageId><p:authority>${o.authority}</p:authority><p:caseNumber>34.2-${i}/26</p:caseNumber><p:boxId>${o.boxId}</p:boxId><p:person><p:familyName>Kovačević</p:familyName><p:givenNames>Ana</p:givenNames><p:dateOfBirth>1990</p:dateOfBirth></p:person><p:documents><p:document><p:type>eAT</p:type><p:serialNumber>${serialOf(i)}</p:serialNumber></p:document></p:documents><p:mobile>${mobileOf(i)}</p:mobile><p:consent>true</p:consent></p:NotifyDocumentsReady></soap:Body></soap:Envelope>`;
}

function restBody(i: number): string {
  return JSON.stringify({
    messageId: `bench-${o.run}-${i}`,
    authority: o.authority,
    caseNumber: `AZ-B-${i}`,
    boxId: o.boxId,
    person: { familyName: 'Benchmark', givenNames: 'Test', dateOfBirth: '1990-01-01' },
    documents: [{ type: 'eAT', serialNumber: serialOf(i) }],
    mobile: mobileOf(i),
    language: 'de',
    consent: true,
  });
}

let counter = 0;
const result = await autocannon({
  url: o.url,
  connections: o.connections,
  duration: o.seconds,
  ...(o.rate > 0 ? { overallRate: o.rate } : {}),
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': o.kind === 'soap' ? 'text/xml; charset=utf-8' : 'application/json', ...o.headers },
      setupRequest: (request) => ({ ...request, body: o.kind === 'soap' ? soapBody(counter++) : restBody(counter++) }),
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({ ok: result['2xx'], non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, seconds: result.duration, p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average })}\n`,
);
