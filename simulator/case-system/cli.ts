/**
 * Case-system simulator from the command line.
 *
 *   tsx simulator/case-system/cli.ts callback-server [--port 8090]
 *       runs the PickupStatusCallback server; open http://localhost:8090/ or /reports
 *   tsx simulator/case-system/cli.ts notify --base http://localhost:8080 --user U --password P [--count 10] [--format canonical|xoev]
 *   tsx simulator/case-system/cli.ts status --base ... --user U --password P --message-id ID
 *   tsx simulator/case-system/cli.ts cancel --base ... --user U --password P --message-id ID
 *
 * --wsse switches from HTTP Basic to a WS-Security UsernameToken.
 */
import { parseArgs } from 'node:util';
import { startCallbackServer } from './callback-server.js';
import { CaseSystemSimulator } from './client.js';
import { sampleNotice } from './data.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '8090' },
    base: { type: 'string', default: 'http://localhost:8080' },
    user: { type: 'string', default: process.env.DOKUBOX_SIM_USER ?? '' },
    password: { type: 'string', default: process.env.DOKUBOX_SIM_PASSWORD ?? '' },
    wsse: { type: 'boolean', default: false },
    count: { type: 'string', default: '1' },
    format: { type: 'string', default: 'canonical' },
    'message-id': { type: 'string' },
  },
});

async function main(): Promise<void> {
  const command = positionals[0];
  if (command === 'callback-server') {
    const server = await startCallbackServer({ port: Number(values.port), host: '0.0.0.0' });
    console.log(`PickupStatusCallback listening at ${server.url.replace('0.0.0.0', 'localhost')} (reports at /reports)`);
    return;
  }
  const credentials = values.wsse ? { wsse: { username: values.user, password: values.password } } : { basic: { username: values.user, password: values.password } };
  const sim = new CaseSystemSimulator(values.base, credentials);
  const ref = { messageId: values['message-id'] ?? '' };
  if (command === 'notify') {
    const count = Number(values.count);
    if (values.format === 'xoev') {
      for (let i = 0; i < count; i++) console.log(JSON.stringify(await sim.notifyXoev(sampleNotice(i, { runId: String(Date.now()) }))));
    } else {
      const started = Date.now();
      const outcomes = await sim.notifyBatch(count);
      for (const o of outcomes) console.log(`${o.messageId} -> ${o.pickupId} (${o.outcome}, ${o.state})`);
      console.log(`${count} notices in ${Date.now() - started} ms`);
    }
  } else if (command === 'status') {
    console.log(JSON.stringify(await sim.status(ref), null, 2));
  } else if (command === 'cancel') {
    console.log(JSON.stringify(await sim.cancel(ref), null, 2));
  } else {
    console.error('usage: cli.ts callback-server | notify | status | cancel (see the file header)');
    process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
