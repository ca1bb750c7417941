/**
 * Notice ingestion over HTTP against a running service with real Redis:
 * requests/s and p50/p99 latency at fixed offered rates.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

export interface IngestionTarget {
  url: string;
  apiKey: string;
  authority: string;
  boxId: string;
}

let serial = 0;

function body(target: IngestionTarget): string {
  serial += 1;
  return JSON.stringify({
    messageId: `bench-${randomUUID()}`,
    authority: target.authority,
    caseNumber: `AZ-B-${serial}`,
    boxId: target.boxId,
    person: { familyName: 'Benchmark', givenNames: 'Test', dateOfBirth: '1990-01-01' },
    documents: [{ type: 'eAT', serialNumber: `B${String(serial).padStart(9, '0')}`.slice(-10) }],
    mobile: '+4915123456789',
    language: 'de',
    consent: true,
  });
}

export async function benchIngestion(target: IngestionTarget, rates: number[], seconds: number): Promise<string[]> {
  const lines: string[] = [];
  for (const rate of rates) {
    const result = await autocannon({
      url: `${target.url}/v1/notices`,
      method: 'POST',
      connections: 32,
      overallRate: rate,
      duration: seconds,
      headers: { authorization: `Bearer ${target.apiKey}`, 'content-type': 'application/json' },
      requests: [{ setupRequest: (req) => ({ ...req, body: body(target) }) }],
    });
    const ok = result['2xx'];
    lines.push(
      `ingestion  offered ${String(rate).padStart(5)}/s  achieved ${(ok / seconds).toFixed(0).padStart(5)}/s  p50 ${String(result.latency.p50).padStart(4)} ms  p99 ${String(result.latency.p99).padStart(4)} ms  non-2xx ${result.non2xx}  errors ${result.errors}`,
    );
  }
  return lines;
}
