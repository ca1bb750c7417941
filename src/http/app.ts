/**
 * The Hono app factory: request ids, one log line per request, the error
 * envelope, body limits, authentication per route, health, metrics and docs.
 * Routes live in routes/; the SOAP and webhook endpoints of the integrations
 * mount onto the app returned here (see `mount`).
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { DokuboxError } from '../core/errors.js';
import { MAX_WEBHOOK_BYTES as SMART_WEBHOOK_MAX_BYTES, SIGNATURE_HEADER as SMART_SIGNATURE_HEADER, TIMESTAMP_HEADER as SMART_TIMESTAMP_HEADER, type SmartLocker } from '../../adapters/locker/smart/index.js';
import { SevenGateway } from '../../adapters/sms/seven/gateway.js';
import { SEVEN_WEBHOOK_MAX_BYTES } from '../../adapters/sms/seven/webhook.js';
import type { SmsGateway } from '../../adapters/sms/types.js';
import type { CaseSystemReportQueue } from '../case-system/reports.js';
import type { BoxLifecycle } from '../lifecycle/box-lifecycle.js';
import type { Metrics } from '../metrics.js';
import type { RedisAlarms } from '../store/alarms.js';
import type { PickupService } from '../service/pickup-service.js';
import type { PickupStore } from '../store/pickup-store.js';
import { requireRole, type ApiKeyAuthenticator } from './auth.js';
import type { AppEnv } from './context.js';
import { docsRoutes } from './docs.js';
import { respondError, toDokuboxError } from './errors.js';
import { auditRoutes } from './routes/audit.js';
import { boxRoutes } from './routes/boxes.js';
import { pickupRoutes } from './routes/pickups.js';
import { appRouter } from './router.js';
import { reportRoutes } from './routes/reports.js';

export interface AppDeps {
  service: PickupService;
  store: PickupStore;
  redis: Redis;
  auth: ApiKeyAuthenticator;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  alarms: RedisAlarms;
  lifecycles: ReadonlyMap<string, BoxLifecycle>;
  reports: CaseSystemReportQueue;
  smartLockers: ReadonlyMap<string, SmartLocker>;
  smsGateway: SmsGateway;
  bodyLimitBytes: number;
  openapiPath: string;
  docsEnabled: boolean;
  /** When metrics have their own port, /metrics is not served here. */
  metricsOnMainPort: boolean;
  /** Extra sub-apps (SOAP endpoint, webhooks) mounted under their paths. */
  mounts?: { path: string; app: Hono<AppEnv> }[];
}

/**
 * A body limit for a webhook: a declared Content-Length over `maxSize` is refused before anything is
 * read, a streamed body as soon as it passes `maxSize` (hono's bodyLimit). The 413 closes the
 * connection, so the sender stops sending the rest.
 */
function webhookBodyLimit(maxSize: number, expected: string): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: (c) => {
      c.header('Connection', 'close');
      return respondError(c as Context<AppEnv>, new DokuboxError('BODY_TOO_LARGE', `The webhook body is larger than ${maxSize} bytes (${expected}); check what is sent to this URL.`));
    },
  });
}

/**
 * hono's bodyLimit, except that a request with a declared Content-Length (and no Transfer-Encoding) is
 * judged by that number without touching the body: hono's check first asks for the web Request's body,
 * which under @hono/node-server builds a whole web Request and stream around the Node request, where the
 * handler's own `c.req.text()` reads it directly. Node's HTTP parser reads exactly the declared length.
 */
function declaredBodyLimit(options: Parameters<typeof bodyLimit>[0] & { onError: (c: Context) => Response | Promise<Response> }): MiddlewareHandler<AppEnv> {
  const streamed = bodyLimit(options);
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && /^\d+$/.test(length) && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > options.maxSize) return options.onError(c as unknown as Context);
      c.set('declaredBodyBytes', Number(length));
      await next();
      return;
    }
    return streamed(c, next);
  };
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ router: appRouter() });

  // The access log's fields are fixed here (and what routes add as logFields: ids, outcomes), never personal
  // data; without the redaction pass its line costs a fraction (docs/performance.md).
  const accessLog = deps.logger.child({}, { redact: [] });
  app.use(requestId({ limitLength: 128 }));
  app.use(async (c, next) => {
    c.set('client', undefined);
    c.set('logFields', undefined);
    c.set('declaredBodyBytes', undefined);
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = routePath(c, -1);
    deps.metrics.httpDuration.observe({ method: c.req.method, route, status: String(c.res.status) }, seconds);
    const client = c.get('client');
    accessLog.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        route,
        status: c.res.status,
        ms: Math.round(seconds * 10_000) / 10,
        ...(client === undefined ? {} : { client: client.id, authority: client.authority }),
        ...c.get('logFields'),
      },
      'request',
    );
  });
  // The SOAP/XML endpoints enforce their own (larger) limit and answer with faults.
  app.use(
    '/v1/*',
    declaredBodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: (c) =>
        respondError(c as never, new DokuboxError('BODY_TOO_LARGE', `The request body is larger than ${deps.bodyLimitBytes} bytes; send one notice per request.`)),
    }),
  );

  app.onError((error, c) => {
    const err = toDokuboxError(error);
    if (err.code === 'INTERNAL') deps.logger.error({ requestId: c.get('requestId'), err: error instanceof Error ? { type: error.name, message: error.message, stack: error.stack } : String(error) }, 'unhandled error');
    else if (err !== error) deps.logger.warn({ requestId: c.get('requestId'), code: err.code, err: error instanceof Error ? { type: error.name, message: error.message } : String(error) }, 'request failed: redis unavailable');
    return respondError(c, err);
  });
  app.notFound((c) => respondError(c, new DokuboxError('NOT_FOUND', `No endpoint ${c.req.method} ${c.req.path}; see /docs for the API.`)));

  app.get('/livez', (c) => c.json({ status: 'ok' }));
  // Answers at once during an outage: a connection that is not ready is not asked (no offline queue, no reconnect wait).
  app.get('/readyz', async (c) => {
    try {
      if (deps.redis.status !== 'ready') throw new Error(`redis connection is ${deps.redis.status}`);
      await deps.redis.ping();
      return c.json({ status: 'ok', redis: 'ok' });
    } catch {
      return c.json({ status: 'unavailable', redis: 'unreachable' }, 503);
    }
  });
  if (deps.metricsOnMainPort) {
    app.get('/metrics', requireRole(deps.auth, 'monitoring'), async (c) =>
      c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }),
    );
  }
  if (deps.docsEnabled) app.route('/', docsRoutes(deps.openapiPath));

  app.route('/v1', pickupRoutes(deps.service, deps.auth));
  app.route('/v1', reportRoutes(deps.reports, deps.auth, deps.service));
  app.route('/v1', auditRoutes(deps.service, deps.auth));
  // Delivery reports of seven.io (and the development gateway): signed webhooks, checked by the adapter.
  // Unsigned requests are refused from their headers and bodies are limited before anything is read.
  app.post(
    '/sms/v1/seven/webhook',
    async (c, next) => {
      const gateway = deps.smsGateway;
      if (!(gateway instanceof SevenGateway)) throw new DokuboxError('NOT_FOUND', 'The configured SMS gateway does not use webhooks.');
      const refused = gateway.checkWebhookHeaders(c.req.raw.headers);
      if (refused !== undefined) return c.text(refused.body, refused.status as 401);
      await next();
    },
    webhookBodyLimit(SEVEN_WEBHOOK_MAX_BYTES, 'a delivery report of seven.io is under 2 KB'),
    async (c) => {
      const gateway = deps.smsGateway as SevenGateway;
      const answer = await gateway.handleWebhook({ method: 'POST', url: c.req.url, headers: c.req.raw.headers, body: await c.req.text() });
      return c.text(answer.body, answer.status as 200);
    },
  );
  // Signed events of smart locker controllers (HMAC, checked by the adapter; no API key).
  app.post(
    '/locker/v1/boxes/:boxId/events',
    async (c, next) => {
      if (!deps.smartLockers.has(c.req.param('boxId'))) throw new DokuboxError('NOT_FOUND', 'No smart locker controller is configured for this box.');
      if (!c.req.header(SMART_TIMESTAMP_HEADER) || !c.req.header(SMART_SIGNATURE_HEADER)) {
        return respondError(c, new DokuboxError('UNAUTHENTICATED', `The event is not signed: send the ${SMART_TIMESTAMP_HEADER} and ${SMART_SIGNATURE_HEADER} headers (docs/locker.md).`));
      }
      await next();
    },
    webhookBodyLimit(SMART_WEBHOOK_MAX_BYTES, 'an event of a locker controller is under 1 KB'),
    async (c) => {
      const adapter = deps.smartLockers.get(c.req.param('boxId'));
      if (adapter === undefined) throw new DokuboxError('NOT_FOUND', 'No smart locker controller is configured for this box.');
      const result = adapter.handleSmartWebhook(new Uint8Array(await c.req.arrayBuffer()), Object.fromEntries(c.req.raw.headers));
      if (result.status === 204) return c.body(null, 204);
      const code = result.status === 401 ? 'UNAUTHENTICATED' : result.status === 413 ? 'BODY_TOO_LARGE' : 'VALIDATION_FAILED';
      return respondError(c, new DokuboxError(code, result.body ?? 'The webhook was rejected.'));
    },
  );
  app.route('/v1', boxRoutes({ service: deps.service, store: deps.store, auth: deps.auth, alarms: deps.alarms, lifecycles: deps.lifecycles }));
  for (const mount of deps.mounts ?? []) app.route(mount.path, mount.app);
  return app;
}
