/**
 * The middleware as a process of its own for bench/efficiency.ts: configured
 * by the environment the benchmark passes (loadConfig), it listens and sends
 * its URL over the IPC channel; SIGTERM closes it gracefully.
 */
import { loadConfig } from '../../src/config.js';
import { createDokubox } from '../../src/main.js';

const dokubox = await createDokubox(loadConfig());
const { url } = await dokubox.listen();
process.send?.({ url });
process.once('SIGTERM', () => {
  void dokubox.close().finally(() => process.exit(0));
});
