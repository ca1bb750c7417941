/**
 * The build as production runs it: `node dist/src/cli/start.js` (`npm test`
 * builds dist/ before the tests). From dist/ it must find the project's files
 * (box and mapping files, openapi.yaml, the WSDL, the Swagger UI assets), load
 * node-soap when the first status report goes out, resume reports a crash
 * left waiting without holding up readiness, and stop cleanly on SIGTERM.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { reportFor } from '../../src/case-system/reports.js';
import { startCallbackServer } from '../../simulator/case-system/callback-server.js';
import { AUTHORITY, BOX } from '../support/harness.js';
import { COMPILED_ENTRY, compiledIsCurrent } from '../../src/cli/compiled.js';
import { instanceEnv, serviceCommand, startServiceProcess, type ServiceProcess } from '../support/service-process.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the compiled service (dist/)', () => {
  it('is current and is what the process tests start', () => {
    expect(compiledIsCurrent(), 'dist/ is missing or older than the sources: npm test compiles it (npm run typecheck or npm run build)').toBe(true);
    expect(serviceCommand()).toEqual([COMPILED_ENTRY]);
  });

  it('starts from dist/ with the project files, delivers a report left waiting by a crash, and stops on SIGTERM', async () => {
    const redisUrl = inject('redisUrl');
    const callback = await startCallbackServer();
    cleanups.push(() => callback.close());
    const env = instanceEnv(redisUrl, { CASE_SYSTEM_CALLBACKS: JSON.stringify({ [AUTHORITY]: { url: callback.url } }) });

    // A report a previous instance stored but never scheduled (killed between the two).
    const redis = new Redis(redisUrl);
    cleanups.push(() => redis.quit());
    const stranded = reportFor({
      eventId: 'ev-stranded-1',
      type: 'pickup.created',
      pickupId: 'p-stranded',
      authority: AUTHORITY,
      boxId: BOX,
      messageId: 'M-STRANDED',
      from: null,
      to: 'waiting',
      reason: 'notice_received',
      compartment: null,
      actor: 'system',
      at: '2026-01-05T08:00:00.000Z',
      seq: 1,
    });
    await redis.rpush(`${env.REDIS_KEY_PREFIX}:case-reports:pending:p-stranded`, JSON.stringify(stranded));

    const instance: ServiceProcess = await startServiceProcess(env);
    cleanups.push(() => instance.kill());

    expect(await (await fetch(`${instance.url}/readyz`)).json()).toEqual({ status: 'ok', redis: 'ok' });
    const openapi = (await (await fetch(`${instance.url}/openapi.json`)).json()) as { openapi?: string };
    expect(openapi.openapi).toMatch(/^3\./);
    const wsdl = await fetch(`${instance.url}/soap/v1/pickup?wsdl`);
    expect(wsdl.status).toBe(200);
    expect(await wsdl.text()).toContain('PickupService');
    expect((await fetch(`${instance.url}/docs/assets/swagger-ui.css`)).status).toBe(200);

    const [report] = await callback.waitForReports(1);
    expect(report).toMatchObject({ pickupId: 'p-stranded', messageId: 'M-STRANDED', status: 'waiting' });

    expect(await instance.stop()).toBe(0);
  });
});
