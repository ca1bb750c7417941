/**
 * The case system's side of status reports: a real HTTP server implementing
 * PickupStatusCallback (callback.wsdl) with node-soap. It records every
 * report, shows them at GET /reports (JSON) and GET / (HTML), and can be
 * scripted to fail: answer 500, hold the request past the caller's timeout,
 * or return a client fault, before it answers normally again.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import soap from 'soap';
import { CALLBACK_WSDL } from '../../adapters/case-system/wsdl.js';
import { createCaseSystemAuthenticator, type CaseSystemAuthenticator } from '../../src/case-system/auth.js';
import { children, parseXml } from '../../src/case-system/xml.js';
import type { CaseSystemReport } from '../../src/case-system/reports.js';

export type ScriptedAnswer = 'ok' | 'http500' | 'timeout' | 'clientFault';

/** A ReportPickupEvent as it arrived, with when and how. */
export interface RecordedReport extends Omit<CaseSystemReport, 'status'> {
  status: string;
  receivedAt: string;
  /** true when a WS-Security header came with it. */
  secured: boolean;
}

export interface CallbackServer {
  url: string;
  /** Every accepted report in arrival order (including repeats of an event id). */
  readonly reports: RecordedReport[];
  /** Every request that reached the server, with the answer it got. */
  readonly attempts: { eventId: string | undefined; answer: ScriptedAnswer }[];
  /** Answers for the next requests, in order; afterwards every request gets the standing answer. */
  script(...answers: ScriptedAnswer[]): void;
  /** The standing answer once the script is used up (a fault switch: `http500` = down, `timeout` = slow past the caller's timeout); default `ok`. */
  setStanding(answer: ScriptedAnswer): void;
  /** Test only (fault `callback-forgets`): acknowledge reports but do not record them, to prove that checks notice lost reports. */
  setForgetting(on: boolean): void;
  /** Called on every request and every accepted report (the console follows it). */
  onChange(listener: () => void): () => void;
  /** Resolves when `count` reports were accepted. */
  waitForReports(count: number): Promise<RecordedReport[]>;
  /** Resolves when `count` requests (of any outcome) arrived. */
  waitForAttempts(count: number): Promise<void>;
  /** Resolves as soon as `done` holds for the reports received so far (checked on every arrival). */
  waitUntil(done: (reports: readonly RecordedReport[]) => boolean): Promise<void>;
  close(): Promise<void>;
}

function html(reports: RecordedReport[]): string {
  const esc = (s: string): string => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows = reports
    .map((r) => `<tr><td>${esc(r.receivedAt)}</td><td>${esc(r.pickupId)}</td><td>${r.seq}</td><td>${esc(r.status)}</td><td>${esc(r.reason)}</td><td>${esc(r.messageId)}</td><td>${esc(r.eventId)}</td></tr>`)
    .join('');
  return `<!doctype html><meta charset="utf-8"><title>Case-system simulator: status reports</title><h1>Status reports (${reports.length})</h1><table border="1"><tr><th>received</th><th>pickup</th><th>seq</th><th>status</th><th>reason</th><th>message id</th><th>event id</th></tr>${rows}</table>`;
}

const CLIENT_FAULT = (text: string): string =>
  `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>${text}</faultstring></soap:Fault></soap:Body></soap:Envelope>`;

/** Accepts only UsernameToken PasswordDigest requests of this user when `wsse` is given (checked like dokubox checks its clients). */
function wsseChecker(wsse: { username: string; password: string }): CaseSystemAuthenticator {
  const seen = new Set<string>();
  return createCaseSystemAuthenticator({
    clients: [{ id: 'dokubox', authority: 'dokubox', wsse }],
    clock: { now: () => Date.now() },
    nonces: {
      remember: async (key) => {
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      },
    },
  });
}

export async function startCallbackServer(options: { port?: number; host?: string; path?: string; wsse?: { username: string; password: string } } = {}): Promise<CallbackServer> {
  const checkWsse = options.wsse === undefined ? undefined : wsseChecker(options.wsse);
  const path = options.path ?? '/callback';
  const reports: RecordedReport[] = [];
  const attempts: { eventId: string | undefined; answer: ScriptedAnswer }[] = [];
  const queue: ScriptedAnswer[] = [];
  const waiters: (() => void)[] = [];
  const held: ServerResponse[] = [];
  const listeners = new Set<() => void>();
  let standing: ScriptedAnswer = 'ok';
  let forgetting = false;
  const notify = (): void => {
    waiters.splice(0).forEach((w) => w());
    listeners.forEach((l) => l());
  };

  const handler = (args: Record<string, unknown>, _cb: unknown, headers: unknown): { acknowledged: boolean } => {
    const text = (k: string): string => (args[k] === undefined ? '' : String(args[k]));
    const report: RecordedReport = {
      eventId: text('eventId'),
      messageId: text('messageId'),
      pickupId: text('pickupId'),
      authority: text('authority'),
      boxId: text('boxId'),
      seq: Number(args.seq),
      status: text('status'),
      reason: text('reason'),
      occurredAt: args.occurredAt instanceof Date ? args.occurredAt.toISOString() : text('occurredAt'),
      receivedAt: new Date().toISOString(),
      secured: typeof headers === 'object' && headers !== null && 'Security' in headers,
    };
    if (args.compartment !== undefined) report.compartment = text('compartment');
    if (args.verificationMethod !== undefined) report.verificationMethod = text('verificationMethod');
    if (forgetting) return { acknowledged: true };
    reports.push(report);
    notify();
    return { acknowledged: true };
  };
  const port = { ReportPickupEvent: handler };
  const soapServer = await new Promise<soap.Server>((resolve, reject) => {
    const s: soap.Server = soap.listen(null, {
      path,
      services: { PickupStatusCallback: { PickupStatusCallbackSoap11Port: port, PickupStatusCallbackSoap12Port: port } },
      xml: readFileSync(CALLBACK_WSDL, 'utf8'),
      uri: CALLBACK_WSDL,
      suppressStack: true,
      callback: (err: unknown) => (err ? reject(err instanceof Error ? err : new Error('callback.wsdl did not load')) : resolve(s)),
    });
  });

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (req.method === 'GET' && url.pathname === '/reports') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reports));
          return;
        }
        if (req.method === 'GET' && url.pathname === '/') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html(reports));
          return;
        }
        if (req.method === 'GET' && url.searchParams.has('wsdl')) {
          res.writeHead(200, { 'content-type': 'text/xml' }).end(readFileSync(CALLBACK_WSDL, 'utf8'));
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        const answer = queue.shift() ?? standing;
        attempts.push({ eventId: /eventId>([^<]*)</.exec(body)?.[1], answer });
        notify();
        if (answer === 'http500') {
          res.writeHead(500, { 'content-type': 'text/plain' }).end('simulated server error');
          return;
        }
        if (answer === 'timeout') {
          held.push(res);
          return;
        }
        if (answer === 'clientFault') {
          res.writeHead(500, { 'content-type': 'text/xml' }).end(CLIENT_FAULT('report refused by the simulator'));
          return;
        }
        if (checkWsse !== undefined) {
          try {
            const envelope = await parseXml(body);
            const security = children(envelope, 'Header').flatMap((h) => children(h, 'Security'))[0];
            await checkWsse({ headers: new Headers(), security });
          } catch {
            res.writeHead(500, { 'content-type': 'text/xml' }).end(CLIENT_FAULT('authentication failed'));
            return;
          }
        }
        const result = await soapServer.processRequest(body, { url: req.url ?? path, method: 'POST', headers: req.headers as Record<string, string> });
        res.writeHead(result.statusCode, { 'content-type': 'text/xml; charset=utf-8' }).end(result.body);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;

  const waitUntil = (done: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (done()) resolve();
        else waiters.push(check);
      };
      check();
    });

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}${path}`,
    reports,
    attempts,
    script: (...answers) => queue.push(...answers),
    setStanding: (answer) => {
      standing = answer;
      // Requests held by an earlier `timeout` stay held until they time out at the caller.
    },
    setForgetting: (on) => {
      forgetting = on;
    },
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitForReports: async (count) => {
      await waitUntil(() => reports.length >= count);
      return reports;
    },
    waitForAttempts: (count) => waitUntil(() => attempts.length >= count),
    waitUntil: (done) => waitUntil(() => done(reports)),
    close: async () => {
      held.splice(0).forEach((res) => res.destroy());
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
