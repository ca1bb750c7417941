/**
 * The case system from the command line (`npm run case-system -- <command>`):
 * send notices over SOAP as a case system would, ask for their status, cancel
 * them, or run the status-report receiver. `npm start` prints the exact
 * notify command with its generated password.
 */
import { parseArgs } from 'node:util';
import { startCallbackServer } from './callback-server.js';
import { CaseSystemSimulator } from './client.js';
import { SAMPLE_AUTHORITY, SAMPLE_BOX, sampleNotice } from './data.js';

const USAGE = `usage: npm run case-system -- <command> [options]

commands:
  notify            send sample notices (SOAP NotifyDocumentsReady, or the XÖV format as plain XML)
  status            show a pickup's status (GetPickupStatus)
  cancel            cancel a pickup (CancelPickup)
  callback-server   receive status reports (PickupStatusCallback); open /reports

options:
  --base URL          dokubox's address (default http://127.0.0.1:8080, or DOKUBOX_URL)
  --user U            case-system user (npm start prints it), or DOKUBOX_SIM_USER
  --password P        its password, or DOKUBOX_SIM_PASSWORD
  --wsse              authenticate with a WS-Security UsernameToken instead of HTTP Basic
  --count N           notify: how many notices (default 1)
  --format F          notify: canonical (default) or xoev
  --authority A       notify: authority of the notices (default ${SAMPLE_AUTHORITY})
  --box B             notify: box of the notices (default ${SAMPLE_BOX})
  --renewal           notify: the documents renew a card the applicant has
  --can DIGITS        notify: CAN of that old card (6 digits; sent as given, the service
                      takes it only together with --renewal)
  --message-id ID     status, cancel: the notice's message id
  --port N            callback-server: port (default 8090)
  --help              this text

exit code: 0 when every request succeeded, 1 when one failed, 2 for wrong usage.`;

function usageError(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parse(): ReturnType<typeof parseArgs<{ allowPositionals: true; options: typeof OPTIONS }>> {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
}

const OPTIONS = {
  help: { type: 'boolean', default: false },
  port: { type: 'string', default: '8090' },
  base: { type: 'string', default: process.env.DOKUBOX_URL ?? 'http://127.0.0.1:8080' },
  user: { type: 'string', default: process.env.DOKUBOX_SIM_USER ?? '' },
  password: { type: 'string', default: process.env.DOKUBOX_SIM_PASSWORD ?? '' },
  wsse: { type: 'boolean', default: false },
  count: { type: 'string', default: '1' },
  format: { type: 'string', default: 'canonical' },
  authority: { type: 'string', default: SAMPLE_AUTHORITY },
  box: { type: 'string', default: SAMPLE_BOX },
  renewal: { type: 'boolean', default: false },
  can: { type: 'string' },
  'message-id': { type: 'string' },
} as const;

async function main(): Promise<void> {
  const { positionals, values } = parse();
  const command = positionals[0];
  if (values.help || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === 'callback-server') {
    const server = await startCallbackServer({ port: Number(values.port), host: '0.0.0.0' });
    process.stdout.write(`PickupStatusCallback listening at ${server.url.replace('0.0.0.0', 'localhost')} (reports at /reports)\n`);
    return;
  }
  if (command !== 'notify' && command !== 'status' && command !== 'cancel') usageError(command === undefined ? 'no command given' : `unknown command '${command}'`);
  if (values.user === '' || values.password === '') usageError('--user and --password are required (npm start prints them under "case-system SOAP login")');
  const credentials = values.wsse ? { wsse: { username: values.user, password: values.password } } : { basic: { username: values.user, password: values.password } };
  const sim = new CaseSystemSimulator(values.base, credentials);
  if (command === 'notify') {
    const count = Number(values.count);
    if (!Number.isInteger(count) || count < 1) usageError('--count must be a whole number of at least 1');
    const target = { authority: values.authority, boxId: values.box, ...(values.renewal ? { renewal: true } : {}), ...(values.can === undefined ? {} : { oldCardCan: values.can }) };
    if (values.format === 'xoev') {
      const runId = String(Date.now());
      for (let i = 0; i < count; i++) {
        const answer = await sim.notifyXoev(sampleNotice(i, { runId, ...target }));
        process.stdout.write(`${answer.status} ${answer.body}\n`);
        if (answer.status >= 400) process.exitCode = 1;
      }
    } else if (values.format === 'canonical') {
      const started = Date.now();
      const outcomes = await sim.notifyBatch(count, target);
      for (const o of outcomes) process.stdout.write(`${o.messageId} -> ${o.pickupId} (${o.outcome}, ${o.state})\n`);
      process.stdout.write(`${count} notices in ${Date.now() - started} ms\n`);
    } else {
      usageError(`--format must be canonical or xoev, not '${values.format}'`);
    }
    return;
  }
  const messageId = values['message-id'];
  if (messageId === undefined || messageId === '') usageError(`${command} needs --message-id`);
  const answer = command === 'status' ? await sim.status({ messageId }) : await sim.cancel({ messageId });
  process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
}

main().catch((error: unknown) => {
  // A SOAP fault or a refused connection: its message, no stack.
  process.stderr.write(`case-system: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
