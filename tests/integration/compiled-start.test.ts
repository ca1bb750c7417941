/**
 * The build as production runs it: `node dist/src/cli/start.js` (`npm test`
 * builds dist/ before the tests). From dist/ it must find the project's files
 * (box and mapping files, openapi.yaml, the WSDL, the Swagger UI assets), load
 * node-soap when the first status report goes out, and stop cleanly on
 * SIGTERM.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startCallbackServer } from '../../simulator/case-system/callback-server.js';
import { AUTHORITY, KEYS, notice } from '../support/harness.js';
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

  it('starts from dist/ with the project files, reports to the case system, and stops on SIGTERM', async () => {
    const redisUrl = inject('redisUrl');
    const callback = await startCallbackServer();
    cleanups.push(() => callback.close());
    const env = instanceEnv(redisUrl, { CASE_SYSTEM_CALLBACKS: JSON.stringify({ [AUTHORITY]: { url: callback.url } }) });

    const instance: ServiceProcess = await startServiceProcess(env);
    cleanups.push(() => instance.kill());

    expect(await (await fetch(`${instance.url}/readyz`)).json()).toEqual({ status: 'ok', redis: 'ok' });
    const openapi = (await (await fetch(`${instance.url}/openapi.json`)).json()) as { openapi?: string };
    expect(openapi.openapi).toMatch(/^3\./);
    const wsdl = await fetch(`${instance.url}/soap/v1/pickup?wsdl`);
    expect(wsdl.status).toBe(200);
    expect(await wsdl.text()).toContain('PickupService');
    expect((await fetch(`${instance.url}/docs/assets/swagger-ui.css`)).status).toBe(200);

    const input = notice();
    const created = await fetch(`${instance.url}/v1/notices`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.caseSystem}`, 'content-type': 'application/json' }, body: JSON.stringify(input) });
    expect(created.status).toBe(201);
    const [report] = await callback.waitForReports(1);
    expect(report).toMatchObject({ messageId: input.messageId, status: 'reserved', seq: 1 });

    expect(await instance.stop()).toBe(0);
  });
});
