/**
 * A seven.io-compatible HTTP API for tests and the zero-config start:
 * `POST /api/sms` (JSON or form, `X-Api-Key`), answers shaped like the real
 * gateway (HTTP 200 with per-message success), signed delivery-report
 * webhooks, and scriptable trouble: per-message rejections, 5xx, slow
 * answers, bare account codes. Also serves the phone inbox.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { SegmentedMessage } from 'sms-segments-calculator';
import { PhoneInbox, type InboxMessage } from './inbox.js';

/** What the next request(s) should experience. */
export type SevenBehaviour =
  | { kind: 'accept'; dlrStatus?: string }
  /** HTTP 200, top-level 100, but this message refused with the code (e.g. 202). */
  | { kind: 'reject'; code: string }
  /** A bare account-level code as the whole body (e.g. 500 no credit, 900 auth). */
  | { kind: 'code'; code: string }
  | { kind: 'http'; status: number }
  /** Accept, but answer only after `ms`. */
  | { kind: 'slow'; ms: number; dlrStatus?: string };

export interface SevenSimulatorOptions {
  apiKey?: string;
  port?: number;
  host?: string;
  /** Where delivery reports go; none when unset. */
  webhookUrl?: string;
  signingSecret?: string;
  /** Seconds since the epoch for webhook timestamps; default wall clock. */
  now?: () => number;
  inbox?: PhoneInbox;
}

export interface WebhookAttempt {
  msgId: string;
  status: number | 'error';
}

export interface SevenSimulator {
  url: string;
  port: number;
  inbox: PhoneInbox;
  /** Behaviours for the next requests, first in first out; afterwards every request is accepted. */
  script(...behaviours: SevenBehaviour[]): void;
  /** Permanent rule: messages to this number get the behaviour. */
  rule(number: string, behaviour: SevenBehaviour): void;
  /** What every request gets that no script or rule covers (undefined: accept); a fault switch of the simulated world. */
  setDefault(behaviour: SevenBehaviour | undefined): void;
  /** Delivery reports: `normal`, `lost` (no webhook is sent) or `failing` (the handset never gets it: status NOTDELIVERED). */
  setDeliveryReports(mode: 'normal' | 'lost' | 'failing'): void;
  setWebhookUrl(url: string | undefined): void;
  webhooks: WebhookAttempt[];
  /** Requests seen, accepted or not (no texts). */
  requests: number;
  close(): Promise<void>;
}

function readParams(contentType: string, raw: string): Record<string, unknown> | undefined {
  if (contentType.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  const params = new URLSearchParams(raw);
  const result: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    result[key.replace(/\[\]$/, '')] = values.length > 1 ? values : values[0];
  }
  return result;
}

export async function startSevenSimulator(options: SevenSimulatorOptions = {}): Promise<SevenSimulator> {
  const apiKey = options.apiKey ?? 'dev';
  const inbox = options.inbox ?? new PhoneInbox();
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const queue: SevenBehaviour[] = [];
  const rules = new Map<string, SevenBehaviour>();
  let webhookUrl = options.webhookUrl;
  let fallback: SevenBehaviour | undefined;
  let deliveryReports: 'normal' | 'lost' | 'failing' = 'normal';
  let nextId = 77_000_000;
  const pendingTimers = new Set<NodeJS.Timeout>();
  const pendingWebhooks = new Set<Promise<void>>();

  const sim: SevenSimulator = {
    url: '',
    port: 0,
    inbox,
    script: (...behaviours) => queue.push(...behaviours),
    rule: (number, behaviour) => rules.set(PhoneInbox.normalise(number), behaviour),
    setDefault: (behaviour) => {
      fallback = behaviour;
    },
    setDeliveryReports: (mode) => {
      deliveryReports = mode;
    },
    setWebhookUrl: (url) => {
      webhookUrl = url;
    },
    webhooks: [],
    requests: 0,
    close: async () => {},
  };

  /** Like seven.io: retried on 429, 5xx and connection errors, freshly signed each time. */
  async function sendWebhook(msgId: string, status: string): Promise<void> {
    if (!webhookUrl || !options.signingSecret || deliveryReports === 'lost') return;
    const url = webhookUrl;
    const secret = options.signingSecret;
    const body = JSON.stringify({ webhook_event: 'dlr', webhook_timestamp: String(now()), data: { msg_id: msgId, status, timestamp: new Date(now() * 1000).toISOString().replace('T', ' ').slice(0, 23) } });
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const timestamp = String(now());
      const nonce = randomBytes(16).toString('hex');
      const payload = [timestamp, nonce, 'POST', url, createHash('md5').update(body).digest('hex')].join('\n');
      const signature = createHmac('sha256', secret).update(payload).digest('hex');
      let result: number | 'error';
      try {
        const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Signature': signature, 'X-Timestamp': timestamp, 'X-Nonce': nonce }, body, signal: AbortSignal.timeout(5_000) });
        await response.text();
        result = response.status;
      } catch {
        result = 'error';
      }
      sim.webhooks.push({ msgId, status: result });
      if (result !== 'error' && result !== 429 && result < 500) return;
      await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
    }
  }

  const app = new Hono();
  app.post('/api/sms', async (c) => {
    sim.requests += 1;
    const given = c.req.header('x-api-key') ?? c.req.header('authorization')?.replace(/^Bearer\s+/i, '');
    if (given !== apiKey) return c.text('900');
    const params = readParams(c.req.header('content-type') ?? '', await c.req.text());
    if (!params) return c.text('301');
    const to = params.to;
    const recipients = (Array.isArray(to) ? to : typeof to === 'string' ? to.split(',') : []).map((r) => String(r).trim()).filter((r) => r !== '');
    const text = typeof params.text === 'string' ? params.text : '';
    if (recipients.length === 0) return c.text('301');
    if (text === '') return c.text('305');
    if (text.length > 1520) return c.text('401');
    const from = typeof params.from === 'string' ? params.from : 'seven.io';
    if (!/^(?:[A-Za-z0-9 .\-_&]{1,11}|\+?\d{1,16})$/.test(from)) return c.text('306');

    const behaviour = queue.shift() ?? rules.get(PhoneInbox.normalise(recipients[0] ?? '')) ?? fallback ?? { kind: 'accept' };
    if (behaviour.kind === 'http') return c.text('server trouble', behaviour.status as 500);
    if (behaviour.kind === 'code') return c.text(behaviour.code);
    if (behaviour.kind === 'slow') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pendingTimers.delete(timer);
          resolve();
        }, behaviour.ms);
        pendingTimers.add(timer);
      });
    }

    const segmented = new SegmentedMessage(text, 'auto', false);
    const encoding = segmented.encodingName === 'GSM-7' ? 'gsm' : 'ucs2';
    const messages = recipients.map((recipient) => {
      if (behaviour.kind === 'reject') {
        return { id: null, sender: from, recipient: recipient.replace(/^\+/, ''), text, encoding, label: null, parts: segmented.segmentsCount, udh: null, is_binary: false, price: 0, success: false, error: behaviour.code, error_text: `simulated error ${behaviour.code}`, messages: null };
      }
      nextId += 1;
      const id = String(nextId);
      const delivered: InboxMessage = {
        id,
        to: recipient,
        from,
        text,
        encoding,
        parts: segmented.segmentsCount,
        via: 'http',
        receivedAt: new Date(now() * 1000).toISOString(),
        ...(typeof params.foreign_id === 'string' ? { foreignId: params.foreign_id } : {}),
      };
      const dlrStatus = deliveryReports === 'failing' ? 'NOTDELIVERED' : behaviour.kind === 'accept' || behaviour.kind === 'slow' ? (behaviour.dlrStatus ?? 'DELIVERED') : 'DELIVERED';
      // A message that never reaches the handset is not in its inbox.
      if (dlrStatus === 'DELIVERED' || dlrStatus === 'BUFFERED' || dlrStatus === 'TRANSMITTED') inbox.receive(delivered);
      const webhook = sendWebhook(id, dlrStatus).finally(() => pendingWebhooks.delete(webhook));
      pendingWebhooks.add(webhook);
      return { id, sender: from, recipient: recipient.replace(/^\+/, ''), text, encoding, label: null, parts: segmented.segmentsCount, udh: null, is_binary: false, price: 0.075 * segmented.segmentsCount, success: true, error: null, error_text: null, messages: null };
    });
    const accepted = messages.filter((m) => m.success);
    return c.json({ success: accepted.length === messages.length ? '100' : accepted.length > 0 ? '101' : '100', total_price: accepted.reduce((s, m) => s + m.price, 0), balance: 100, debug: 'false', sms_type: 'direct', messages });
  });
  app.get('/inbox', (c) => c.json(inbox.all()));
  app.get('/inbox/:number', (c) => c.json(inbox.list(c.req.param('number'))));
  app.delete('/inbox', (c) => {
    inbox.clear();
    return c.body(null, 204);
  });
  // For manual testing: script the next answers over HTTP.
  app.post('/_sim/script', async (c) => {
    const body: unknown = await c.req.json();
    const list = Array.isArray(body) ? body : [body];
    queue.push(...(list as SevenBehaviour[]));
    return c.json({ queued: queue.length });
  });

  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  sim.port = port;
  sim.url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  sim.close = async () => {
    for (const timer of pendingTimers) clearTimeout(timer);
    await Promise.allSettled([...pendingWebhooks]);
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return sim;
}
