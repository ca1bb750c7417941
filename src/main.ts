/**
 * Composition root: builds config-dependent parts once and wires them. Nothing
 * else constructs infrastructure. `createDokubox` is used by the CLI, the
 * tests and the benchmarks alike.
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { BoxDefinition } from './core/box.js';
import { BoxCalendar } from './core/calendar.js';
import { systemClock, type Clock, type Timers } from './core/clock.js';
import { DocumentTypeCatalog } from './core/documents.js';
import { ApiKeyAuthenticator } from './http/auth.js';
import { createApp } from './http/app.js';
import type { AppEnv } from './http/context.js';
import { Maintenance } from './jobs/maintenance.js';
import { SoapCallbackClient } from '../adapters/case-system/callback-client.js';
import { CaseSystemReportQueue, createCaseSystemApp, createCaseSystemAuthenticator, loadMappings, RedisNonceStore, serveMutualTls, xmlLimitsOf } from './case-system/index.js';
import { readFileSync } from 'node:fs';
import { createLockerRuntime, type LockerRuntime } from './lifecycle/lockers.js';
import type { SmsGateway } from '../adapters/sms/types.js';
import { createSmsGateway, smsQueueSettings } from './sms/config.js';
import { SmsNotifications } from './sms/notifications.js';
import { SmsQueue } from './sms/queue.js';
import { loadSmsTemplates } from './sms/template-loader.js';
import { createServiceLogger, flushLogger } from './logger.js';
import { loadBoxes, loadDocumentTypes } from './mappings/loaders.js';
import { createMetrics, type Metrics } from './metrics.js';
import { PiiCipher } from './security/pii-cipher.js';
import { PickupService } from './service/pickup-service.js';
import { RedisAlarms } from './store/alarms.js';
import { EventStream } from './store/event-stream.js';
import { PickupStore } from './store/pickup-store.js';
import { projectPath } from './project-root.js';
import { closeRedis, connectRedis, redisOptions, redisSettings, untilReady } from './store/redis-connections.js';
import { ReplicaWait } from './store/replica-wait.js';
import { WorldClock } from './store/world-clock.js';
import { verificationMethodOf } from './core/pickup-policy.js';
import { AttemptLimiter } from './kiosk/attempts.js';
import { KioskDevices } from './kiosk/devices.js';
import { StaffAccounts } from './kiosk/staff-accounts.js';
import { kioskAdminRoutes } from './http/routes/kiosks.js';
import { statisticsRoutes } from './http/routes/statistics.js';
import { Statistics } from './stats/statistics.js';
import { loadAsset } from './web/assets.js';
import { loadCatalogues } from './web/i18n.js';
import { kioskRoutes } from './web/kiosk/routes.js';
import { PersonAccounts } from './accounts/accounts.js';
import { PersonSessions } from './accounts/sessions.js';
import { dashboardAuth, type DashboardAuth, type DashboardEnv } from './web/dashboard/auth.js';
import { dashboardBoxRoutes } from './web/dashboard/box-routes.js';
import { dashboardPickupRoutes } from './web/dashboard/pickup-routes.js';
import { dashboardQueueRoutes } from './web/dashboard/queues.js';
import { dashboardStatisticsRoutes } from './web/dashboard/statistics-routes.js';
import { LiveBoxFeed } from './web/dashboard/live.js';

export { PROJECT_ROOT } from './project-root.js';

export interface DokuboxOptions {
  /**
   * Domain time: deadlines, reminders, expiries, quiet hours, opening hours,
   * timestamps of events and alarms (tests inject a manual clock). Default:
   * the world clock with SIMULATED_TIME, else the wall clock.
   */
  clock?: Clock & Timers;
  /**
   * Wall time: sessions, cookies, attempt limits, the WS-Security window and
   * transport timeouts, which protect against or wait for the real world.
   * Default: `clock` if given, else the system clock. See docs/simulated-time.md.
   */
  wallClock?: Clock & Timers;
  logger?: Logger;
  /** Skip background loops (event stream, BullMQ workers); tests drive them. */
  background?: boolean;
  /** Extra sub-apps mounted on the HTTP app. */
  mounts?: { path: string; app: Hono<AppEnv> }[];
  /** Code source for tests that need to force collisions. */
  randomCode?: () => string;
  /** An SMS gateway instead of the configured one (tests, the simulated world). */
  smsGateway?: SmsGateway;
}

export interface Dokubox {
  config: Config;
  app: Hono<AppEnv>;
  service: PickupService;
  store: PickupStore;
  events: EventStream;
  alarms: RedisAlarms;
  lockers: LockerRuntime;
  reports: CaseSystemReportQueue;
  sms: SmsQueue;
  smsGateway: SmsGateway;
  /** The periodic sweep (expiry, reminders); tests run `maintenance.sweep()` directly. */
  maintenance: Maintenance;
  metrics: Metrics;
  /** The domain clock (see DokuboxOptions.clock). */
  clock: Clock & Timers;
  /** With SIMULATED_TIME (and no injected clock): the shared world clock, also `clock`. */
  worldClock: WorldClock | undefined;
  /** Per box and day counts for the dashboard (src/stats/statistics.ts). */
  statistics: Statistics;
  redis: Redis;
  boxes: Map<string, BoxDefinition>;
  /** The office's dashboard: people's accounts and sessions, and `requirePerson` for its routes (mounted at /dashboard). */
  dashboard: DashboardAuth & { accounts: PersonAccounts; sessions: PersonSessions };
  logger: Logger;
  /** Starts the background loops and the HTTP listener(s). */
  listen(): Promise<{ url: string; metricsUrl?: string; tlsUrl?: string }>;
  /** Graceful shutdown: stop accepting, finish jobs, close connections. */
  close(): Promise<void>;
}

export async function createDokubox(config: Config, options: DokuboxOptions = {}): Promise<Dokubox> {
  const wallClock = options.wallClock ?? options.clock ?? systemClock;
  const logger = options.logger ?? (await createServiceLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT ?? (config.NODE_ENV === 'development' ? 'pretty' : 'json') }));
  const boxes = loadBoxes(projectPath(config.BOXES_DIR));
  const catalog = new DocumentTypeCatalog(loadDocumentTypes(projectPath(config.DOCUMENT_TYPES_FILE)));
  const calendars = new Map(
    [...boxes.values()].map((b) => [
      b.id,
      new BoxCalendar({ timeZone: b.timeZone, state: b.holidayState, openingHours: b.openingHours, closedOnHolidays: b.closedOnHolidays }),
    ]),
  );

  // Every connection comes from one place (src/store/redis-connections.ts): REDIS_URL or Sentinel, options by role.
  const redisConfig = redisSettings(config);
  const redis = connectRedis(redisConfig, 'command', logger);
  const replicaWait =
    redisConfig.waitReplicas > 0
      ? new ReplicaWait(
          Array.from({ length: redisConfig.waitConnections }, () => connectRedis(redisConfig, 'durable', logger)),
          redisConfig.waitReplicas,
          redisConfig.waitTimeoutMs,
        )
      : undefined;
  let worldClock: WorldClock | undefined;
  try {
    await untilReady(redis, redisConfig, 10_000);
    // Simulated time (never in production): one world clock in Redis for every instance (docs/simulated-time.md).
    if (config.SIMULATED_TIME && options.clock === undefined) {
      worldClock = await WorldClock.connect({
        redis,
        ns: config.REDIS_KEY_PREFIX,
        subscriberConnection: () => connectRedis(redisConfig, 'subscriber', logger),
        wall: wallClock,
        initial: {
          ...(config.SIMULATED_TIME_START === undefined ? {} : { at: config.SIMULATED_TIME_START }),
          ...(config.SIMULATED_TIME_SPEED === undefined ? {} : { speed: config.SIMULATED_TIME_SPEED }),
        },
        logger,
      });
    }
  } catch (error) {
    redis.disconnect();
    await replicaWait?.close();
    throw error;
  }
  const clock: Clock & Timers = options.clock ?? worldClock ?? wallClock;

  const store = new PickupStore(redis, config.REDIS_KEY_PREFIX, { replicaWait });
  for (const box of boxes.values()) await store.syncBox(box);

  const metrics = createMetrics({ store, boxes });
  const alarms = new RedisAlarms(redis, config.REDIS_KEY_PREFIX, clock, logger, (alarm) => metrics.alarms.inc({ box: alarm.boxId, kind: alarm.kind }));
  // The kiosk at the box: attempt limits, enrolled kiosk PCs, staff who sign in there (src/kiosk/).
  const attempts = new AttemptLimiter(redis, config.REDIS_KEY_PREFIX);
  const kioskDevices = new KioskDevices(redis, config.REDIS_KEY_PREFIX);
  const staffAccounts = new StaffAccounts(redis, config.REDIS_KEY_PREFIX);
  const service = new PickupService({
    store,
    boxes,
    calendars,
    catalog,
    cipher: new PiiCipher(config.PII_KEY),
    secret: config.SECRET_KEY,
    clock,
    wallClock,
    idempotencyTtlDays: config.IDEMPOTENCY_TTL_DAYS,
    auditRetentionDays: config.AUDIT_RETENTION_DAYS,
    ...(options.randomCode === undefined ? {} : { randomCode: options.randomCode }),
    attempts,
    alarms,
    openingHours: config.BOX_OPENING_HOURS,
  });
  const events = new EventStream({
    redis,
    ns: config.REDIS_KEY_PREFIX,
    logger,
    blockingConnection: () => connectRedis(redisConfig, 'blocking', logger),
    // Statistics are counted by the store's scripts now, no longer by a subscriber of its own (docs/statistics.md).
    retiredGroups: ['stats'],
  });
  const lockers = createLockerRuntime({
    boxes: config.LOCKERS_ENABLED ? boxes : new Map(),
    service,
    alarms,
    redis,
    keyPrefix: config.REDIS_KEY_PREFIX,
    clock,
    wallClock,
    logger,
    endpoints: config.LOCKER_ENDPOINTS,
    doorOpenTimeoutMs: config.LOCKER_DOOR_OPEN_TIMEOUT_MS,
    doorLeftOpenMs: config.LOCKER_DOOR_LEFT_OPEN_MS,
    leaseTtlMs: config.LOCKER_LEASE_TTL_MS,
    defectiveOf: (boxId) => store.defective(boxId),
    subscriberConnection: () => connectRedis(redisConfig, 'subscriber', logger),
  });
  const auth = new ApiKeyAuthenticator(config.API_KEYS);
  const catalogues = loadCatalogues(projectPath(config.I18N_DIR));
  const secureCookies = config.SECURE_COOKIES ?? config.NODE_ENV === 'production';

  // The office's dashboard: people sign in with username and password (src/accounts/, docs/dashboard.md).
  const personAccounts = new PersonAccounts(redis, config.REDIS_KEY_PREFIX);
  const personSessions = new PersonSessions(redis, config.REDIS_KEY_PREFIX, {
    idleMs: config.DASHBOARD_SESSION_IDLE_MINUTES * 60_000,
    absoluteMs: config.DASHBOARD_SESSION_MAX_HOURS * 3_600_000,
  });
  const dashboard = { ...dashboardAuth({ accounts: personAccounts, sessions: personSessions, clock: wallClock, catalogues, secureCookies, logger, boxes }), accounts: personAccounts, sessions: personSessions };
  // The box pages follow changes live: one blocking reader of the streams per instance (src/web/dashboard/live.ts).
  const liveFeed = new LiveBoxFeed({ connection: () => connectRedis(redisConfig, 'blocking', logger), ns: config.REDIS_KEY_PREFIX, logger });

  // Case system: SOAP / XML notices in, status reports out (docs/case-system.md).
  const publicBaseUrl = config.CASE_SYSTEM_PUBLIC_URL ?? config.PUBLIC_URL;
  const caseApp = await createCaseSystemApp({
    port: service,
    mappings: await loadMappings(projectPath(config.CASE_SYSTEM_MAPPINGS_DIR)),
    authenticate: createCaseSystemAuthenticator({
      clients: config.CASE_SYSTEM_CLIENTS,
      clock: wallClock,
      timestampWindowMs: config.CASE_SYSTEM_WSSE_WINDOW_SECONDS * 1000,
      nonces: new RedisNonceStore(redis, `${config.REDIS_KEY_PREFIX}:case:`),
    }),
    logger,
    clock,
    maxBodyBytes: config.CASE_SYSTEM_MAX_BODY_BYTES,
    accessLog: true,
    xmlLimits: xmlLimitsOf(config),
    // The WSDL's address: CASE_SYSTEM_PUBLIC_URL, then PUBLIC_URL, then the listener the request came in on.
    ...(publicBaseUrl === undefined ? {} : { publicBaseUrl }),
    listenerUrl: `http://${urlHost(config.HOST)}:${config.PORT}`,
  });
  const reports = new CaseSystemReportQueue({
    redis,
    connection: redisOptions(redisConfig, 'worker'),
    prefix: `${config.REDIS_KEY_PREFIX}:case-reports:`,
    queueName: 'case-system-reports',
    bullPrefix: `${config.REDIS_KEY_PREFIX}:bull`,
    ledger: store,
    targets: (authority) => config.CASE_SYSTEM_CALLBACKS[authority],
    deliverer: new SoapCallbackClient({ defaultTimeoutMs: config.CASE_SYSTEM_REPORT_TIMEOUT_MS }),
    verificationMethod: (boxId) => {
      const box = boxes.get(boxId);
      return box === undefined ? undefined : verificationMethodOf(box.pickup);
    },
    clock,
    logger,
    attempts: config.CASE_SYSTEM_REPORT_ATTEMPTS,
    backoffMs: config.CASE_SYSTEM_REPORT_BACKOFF_MS,
    concurrency: config.CASE_SYSTEM_REPORT_CONCURRENCY,
    lockDurationMs: config.WORKER_LOCK_MS,
  });
  reports.attach(events);
  reports.on('delivered', () => metrics.caseReports.inc({ outcome: 'delivered' }));
  reports.on('dead', () => metrics.caseReports.inc({ outcome: 'dead_letter' }));
  metrics.trackCaseReports(() => reports.counts());

  // SMS: queued on state changes, outcomes become state changes and alarms (docs/sms.md).
  const smsGateway = options.smsGateway ?? createSmsGateway(config, { clock: wallClock, logger, redis, keyPrefix: config.REDIS_KEY_PREFIX });
  const notifications = new SmsNotifications({ service, alarms, logger, reminderWorkingDays: config.SMS_REMINDER_WORKING_DAYS });
  const sms = new SmsQueue({
    ...smsQueueSettings(config),
    connection: redisOptions(redisConfig, 'worker'),
    gateway: smsGateway,
    reader: notifications.reader,
    onOutcome: notifications.onOutcome,
    templates: loadSmsTemplates(config.SMS_TEMPLATE_DIR === undefined ? undefined : projectPath(config.SMS_TEMPLATE_DIR)),
    logger,
    clock,
    prefix: `${config.REDIS_KEY_PREFIX}:bull`,
    lockDurationMs: config.WORKER_LOCK_MS,
  });
  notifications.bind(sms);
  notifications.attach(events);
  const stopDeliveryReports = notifications.listen(sms, smsGateway);

  // Statistics per box and day for the dashboard (docs/statistics.md).
  const statistics = new Statistics({ redis, ns: config.REDIS_KEY_PREFIX });

  const app = createApp({
    service,
    store,
    redis,
    auth,
    logger,
    metrics,
    clock,
    alarms,
    lifecycles: lockers.lifecycles,
    reports,
    smartLockers: lockers.smart,
    smsGateway,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    openapiPath: projectPath('openapi.yaml'),
    docsEnabled: config.DOCS_ENABLED,
    metricsOnMainPort: config.METRICS_PORT === undefined,
    mounts: [
      { path: '/', app: caseApp as unknown as Hono<AppEnv> },
      { path: '/v1', app: kioskAdminRoutes({ service, auth, devices: kioskDevices, staff: staffAccounts, attempts, clock: wallClock }) },
      { path: '/v1', app: statisticsRoutes({ service, auth, statistics }) },
      {
        path: '/kiosk',
        app: kioskRoutes({
          service,
          store,
          boxes,
          lifecycles: lockers.lifecycles,
          devices: kioskDevices,
          staff: staffAccounts,
          attempts,
          alarms,
          wallClock,
          catalogues,
          assets: {
            css: loadAsset(projectPath('src/web/kiosk/kiosk.css'), '/kiosk/assets', 'kiosk.css'),
            js: loadAsset(projectPath('src/web/kiosk/client.ts'), '/kiosk/assets', 'kiosk.ts'),
          },
          secureCookies: config.KIOSK_SECURE_COOKIES ?? secureCookies,
          frameAncestors: config.KIOSK_FRAME_ANCESTORS,
          logger,
        }) as unknown as Hono<AppEnv>,
      },
      { path: '/dashboard', app: dashboard.routes as unknown as Hono<AppEnv> },
      // Statistics of a box (before the box routes: it passes on /dashboard/assets it does not serve).
      {
        path: '/dashboard',
        app: dashboardStatisticsRoutes({
          statistics,
          boxes,
          clock,
          catalogues,
          assets: {
            css: loadAsset(projectPath('src/web/dashboard/dashboard.css'), '/dashboard/assets', 'dashboard.css'),
            statsCss: loadAsset(projectPath('src/web/dashboard/statistics.css'), '/dashboard/assets', 'statistics.css'),
            chart: loadAsset(projectPath('node_modules/chart.js/dist/chart.umd.min.js'), '/dashboard/assets', 'chart.umd.js'),
            js: loadAsset(projectPath('src/web/dashboard/statistics-client.ts'), '/dashboard/assets', 'statistics.ts'),
          },
          guard: dashboard.requirePerson('clerk') as unknown as MiddlewareHandler<AppEnv>,
          personOf: (c) => (c as unknown as Context<DashboardEnv>).get('person'),
        }),
      },
      // Before the box routes, whose asset route answers 404 for other files.
      {
        path: '/dashboard',
        app: dashboardPickupRoutes({
          service,
          store,
          boxes,
          lifecycles: lockers.lifecycles,
          reports,
          catalogues,
          assets: {
            css: loadAsset(projectPath('src/web/dashboard/dashboard.css'), '/dashboard/assets', 'dashboard.css'),
            pickupsCss: loadAsset(projectPath('src/web/dashboard/pickups.css'), '/dashboard/assets', 'pickups.css'),
          },
          requirePerson: dashboard.requirePerson,
        }) as unknown as Hono<AppEnv>,
      },
      {
        path: '/dashboard',
        app: dashboardBoxRoutes({
          store,
          boxes,
          alarms,
          live: liveFeed,
          clock,
          catalogues,
          assets: {
            css: loadAsset(projectPath('src/web/dashboard/dashboard.css'), '/dashboard/assets', 'dashboard.css'),
            js: loadAsset(projectPath('src/web/dashboard/client.ts'), '/dashboard/assets', 'dashboard.ts'),
          },
          guard: dashboard.requirePerson() as unknown as MiddlewareHandler<AppEnv>,
          personOf: (c) => (c as unknown as Context<DashboardEnv>).get('person'),
        }),
      },
      // The BullMQ queues for admins (bull-board, read-only); the queues are asked for at the first request.
      {
        path: '/dashboard',
        app: dashboardQueueRoutes({
          queues: () => [sms.queue, reports.queue, maintenance.queue],
          guard: dashboard.requirePerson('admin') as unknown as MiddlewareHandler<AppEnv>,
          title: catalogues.t('de', 'dashboard.queues.title'),
          locale: 'de-DE',
        }),
      },
      ...(options.mounts ?? []),
    ],
  });

  const bullPrefix = `${config.REDIS_KEY_PREFIX}:bull`;
  const maintenance = new Maintenance({
    queueConnection: redisOptions(redisConfig, 'queue'),
    workerConnection: redisOptions(redisConfig, 'worker'),
    prefix: bullPrefix,
    service,
    logger,
    metrics,
    sweepIntervalMs: config.EXPIRY_SWEEP_INTERVAL_MS,
    ...(worldClock === undefined ? {} : { timeline: worldClock }),
    sendDueReminders: () => notifications.sendDueReminders(),
  });

  const servers: ServerType[] = [];
  let started = false;

  return {
    config,
    app,
    service,
    store,
    events,
    alarms,
    lockers,
    reports,
    sms,
    smsGateway,
    maintenance,
    metrics,
    clock,
    worldClock,
    statistics,
    redis,
    boxes,
    dashboard,
    logger,
    async listen() {
      await events.init();
      if (options.background !== false) {
        events.start();
        await maintenance.start();
        await lockers.start();
        reports.start();
        sms.start();
        started = true;
      }
      const main = await new Promise<ServerType>((resolve) => {
        const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(server));
      });
      servers.push(main);
      const address = main.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
      const host = urlHost(config.HOST);
      const result: { url: string; metricsUrl?: string; tlsUrl?: string } = { url: `http://${host}:${port}` };
      if (config.CASE_SYSTEM_TLS_PORT !== undefined) {
        // Case systems with client certificates: the same app behind HTTPS that demands and verifies one.
        const files = { key: config.CASE_SYSTEM_TLS_KEY_FILE, cert: config.CASE_SYSTEM_TLS_CERT_FILE, ca: config.CASE_SYSTEM_TLS_CLIENT_CA_FILE };
        const missing = Object.entries(files).filter(([, v]) => v === undefined).map(([k]) => k);
        if (missing.length > 0) throw new Error(`CASE_SYSTEM_TLS_PORT is set but the ${missing.join(', ')} file variable(s) are not (CASE_SYSTEM_TLS_KEY_FILE, CASE_SYSTEM_TLS_CERT_FILE, CASE_SYSTEM_TLS_CLIENT_CA_FILE)`);
        const tls = await serveMutualTls({
          fetch: app.fetch,
          port: config.CASE_SYSTEM_TLS_PORT,
          hostname: config.HOST,
          key: readFileSync(files.key as string),
          cert: readFileSync(files.cert as string),
          ca: readFileSync(files.ca as string),
        });
        servers.push(tls.server);
        result.tlsUrl = `https://${host}:${tls.port}`;
      }
      if (config.METRICS_PORT !== undefined) {
        const metricsApp = new Hono();
        metricsApp.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
        const metricsServer = await new Promise<ServerType>((resolve) => {
          const server = serve({ fetch: metricsApp.fetch, port: config.METRICS_PORT, hostname: config.HOST }, () => resolve(server));
        });
        servers.push(metricsServer);
        result.metricsUrl = `http://${host}:${config.METRICS_PORT}/metrics`;
      }
      return result;
    },
    async close() {
      // Stop accepting requests first, then let jobs finish, then disconnect.
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await events.stop();
      await liveFeed.close();
      if (started) await lockers.stop();
      await reports.close();
      stopDeliveryReports();
      await sms.close();
      await smsGateway.close();
      // Also a worker that a test started itself.
      await maintenance.close();
      await replicaWait?.close();
      await worldClock?.close();
      await closeRedis(redis);
      await flushLogger(logger);
    },
  };
}

/** The host part of a URL for a listening address: a wildcard address is reached through loopback; IPv6 in brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
