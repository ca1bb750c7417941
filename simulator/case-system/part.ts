/**
 * The case system of the zero-config start: the PickupStatusCallback server
 * that records every status report (GET / shows them), and a SOAP client
 * account so that testers can send notices with the CLI:
 *   npm run case-system -- notify --base <url> --user <u> --password <p> --count 10
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BoxDefinition } from '../../src/core/box.js';
import type { SimulatorPart } from '../index.js';
import { startCallbackServer } from './callback-server.js';

export async function startCaseSystemPart(context: { boxes: BoxDefinition[]; middlewareUrl: () => string }): Promise<SimulatorPart> {
  const server = await startCallbackServer({ host: '127.0.0.1' });
  const authorities = [...new Set(context.boxes.map((b) => b.authority))];
  const password = randomBytes(12).toString('base64url');
  const clients = authorities.map((authority) => ({
    id: `sim-${authority}`,
    authority,
    basic: { username: `sim-${authority}`, passwordSha256: createHash('sha256').update(password).digest('hex') },
  }));
  const callbacks = Object.fromEntries(authorities.map((authority) => [authority, { url: server.url }]));
  return {
    name: 'case-system',
    urls: {
      'status reports': server.url.replace(/\/callback$/, '/'),
      'SOAP login': `user sim-${authorities[0] ?? ''} password ${password}`,
      // {url} becomes the middleware's address in the banner.
      'send notices': `npm run case-system -- notify --base {url} --user sim-${authorities[0] ?? ''} --password ${password} --count 3`,
    },
    shell: { REPORTS: server.url.replace(/\/callback$/, '') },
    env: { CASE_SYSTEM_CLIENTS: JSON.stringify(clients), CASE_SYSTEM_CALLBACKS: JSON.stringify(callbacks) },
    close: () => server.close(),
  };
}
