/**
 * A case system under test conditions: sends notices to a running service
 * over REST and SOAP (1.1 and 1.2), many at once, records every answer, and
 * resends a notice with the same message id until it is accepted, the way
 * docs/case-system.md asks case systems to. Used by the outage and failover
 * tests; it checks nothing itself.
 */
import { createHash } from 'node:crypto';
import type { NoticeInput } from '../../src/core/notice.js';
import { canonicalNotice, soapEnvelope } from '../fixtures/case-system/helpers.js';
import { KEYS, notice } from './harness.js';

export type Protocol = 'rest' | 'soap11' | 'soap12';

export interface Answer {
  status: number;
  /** `created` or `duplicate` on 2xx. */
  outcome?: string;
  /** The error code of a refusal (REST error envelope or SOAP/XML fault detail). */
  code?: string;
  /** SOAP 1.1 faultcode or SOAP 1.2 Code/Value of a fault. */
  faultClass?: string;
  retryAfter: string | null;
}

export interface NoticeCase {
  input: NoticeInput;
  protocol: Protocol;
  answers: Answer[];
}

/** The Basic credentials of the SOAP client in `caseSystemClientsEnv`. */
const SOAP_USER = 'failover-test';
const SOAP_PASSWORD = 'correct horse battery staple';

/** CASE_SYSTEM_CLIENTS for a service that the driver's SOAP requests authenticate against. */
export function caseSystemClientsEnv(authority: string): string {
  return JSON.stringify([{ id: SOAP_USER, authority, basic: { username: SOAP_USER, passwordSha256: createHash('sha256').update(SOAP_PASSWORD).digest('hex') } }]);
}

/** `count` fresh notices, every third over SOAP 1.1 and every fifth (of the rest) over SOAP 1.2. */
export function noticeCases(count: number): NoticeCase[] {
  return Array.from({ length: count }, (_, i) => ({
    input: notice(),
    protocol: i % 3 === 1 ? 'soap11' : i % 5 === 2 ? 'soap12' : 'rest',
    answers: [],
  }));
}

function soapBody(input: NoticeInput, version: '1.1' | '1.2'): string {
  const document = input.documents[0];
  return soapEnvelope(
    canonicalNotice({
      messageId: input.messageId,
      authority: input.authority,
      caseNumber: input.caseNumber,
      boxId: input.boxId,
      serialNumber: document?.serialNumber ?? 'X0000000',
      type: document?.type ?? 'eAT',
    }),
    { version },
  );
}

/** The service answers at once even during an outage; a request this slow is a hang, and fails the test. */
const REQUEST_TIMEOUT_MS = 15_000;

/** Sends a notice once and records the answer. */
export async function send(baseUrl: string, c: NoticeCase): Promise<Answer> {
  let res: Response;
  if (c.protocol === 'rest') {
    res = await fetch(`${baseUrl}/v1/notices`, {
      method: 'POST',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      headers: { authorization: `Bearer ${KEYS.caseSystem}`, 'content-type': 'application/json' },
      body: JSON.stringify(c.input),
    });
  } else {
    const version = c.protocol === 'soap11' ? '1.1' : '1.2';
    res = await fetch(`${baseUrl}/soap/v1/pickup`, {
      method: 'POST',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      headers: {
        authorization: `Basic ${Buffer.from(`${SOAP_USER}:${SOAP_PASSWORD}`).toString('base64')}`,
        'content-type': version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8',
      },
      body: soapBody(c.input, version),
    });
  }
  const text = await res.text();
  const answer: Answer = { status: res.status, retryAfter: res.headers.get('retry-after') };
  if (c.protocol === 'rest') {
    const body = JSON.parse(text) as { outcome?: string; error?: { code: string } };
    if (body.outcome !== undefined) answer.outcome = body.outcome;
    if (body.error !== undefined) answer.code = body.error.code;
  } else {
    const outcome = /<dokubox:outcome>([a-z]+)<\/dokubox:outcome>/.exec(text)?.[1];
    const code = /<dokubox:code>([A-Z_]+)<\/dokubox:code>/.exec(text)?.[1];
    const faultClass = /<faultcode>([^<]+)<\/faultcode>/.exec(text)?.[1] ?? /<soap:Code><soap:Value>([^<]+)<\/soap:Value>/.exec(text)?.[1];
    if (outcome !== undefined) answer.outcome = outcome;
    if (code !== undefined) answer.code = code;
    if (faultClass !== undefined) answer.faultClass = faultClass;
  }
  c.answers.push(answer);
  return answer;
}

export const accepted = (a: Answer): boolean => a.status >= 200 && a.status < 300;

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function inParallel<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await work(items[index] as T, index);
    }
  });
  await Promise.all(workers);
}

/**
 * Resends a notice (same message id, same content) until it is accepted; a
 * retryable answer is retried after `pauseMs`, anything else is returned as
 * it is, and so is the last answer at `deadline` (a `performance.now()` time
 * shared by all notices of a test, so that a service that never recovers
 * fails the test in time instead of making every notice wait its own turn).
 */
export async function resendUntilAccepted(baseUrl: string, c: NoticeCase, options: { deadline: number; pauseMs: number }): Promise<Answer> {
  for (;;) {
    const answer = await send(baseUrl, c);
    if (accepted(answer) || answer.status !== 503) return answer;
    if (performance.now() > options.deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
  }
}

/** Answers by status and code, e.g. `{"201": 120, "503 DEPENDENCY_UNAVAILABLE": 40}`: for failure messages. */
export function answerSummary(cases: NoticeCase[]): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const a of cases.flatMap((c) => c.answers)) {
    const key = a.code === undefined ? String(a.status) : `${a.status} ${a.code}`;
    summary[key] = (summary[key] ?? 0) + 1;
  }
  return summary;
}

/** Every answer that is neither an acceptance nor a retryable 503 with Retry-After and DEPENDENCY_UNAVAILABLE. */
export function dishonestAnswers(cases: NoticeCase[]): { messageId: string; protocol: Protocol; answer: Answer }[] {
  return cases.flatMap((c) =>
    c.answers
      .filter((a) => !accepted(a) && !(a.status === 503 && a.code === 'DEPENDENCY_UNAVAILABLE' && a.retryAfter !== null))
      .map((answer) => ({ messageId: c.input.messageId, protocol: c.protocol, answer })),
  );
}

/**
 * At-least-once contract per notice: at most one `created`; a `duplicate`
 * before any `created` only when an earlier attempt was refused (that attempt
 * stored it without an answer); once accepted, always accepted.
 */
export function contractViolations(cases: NoticeCase[]): string[] {
  const problems: string[] = [];
  for (const c of cases) {
    const outcomes = c.answers.filter(accepted).map((a) => a.outcome);
    if (outcomes.filter((o) => o === 'created').length > 1) problems.push(`${c.input.messageId}: created twice`);
    const first = c.answers.findIndex(accepted);
    if (first >= 0 && c.answers[first]?.outcome === 'duplicate' && first === 0) problems.push(`${c.input.messageId}: duplicate on the first attempt`);
    if (first >= 0 && c.answers.slice(first).some((a) => !accepted(a) && a.status !== 503)) problems.push(`${c.input.messageId}: refused after it was accepted`);
  }
  return problems;
}
