/**
 * The README's walk through a pickup, run exactly as written: `npm start`
 * (the simulator with it), the banner's export line, then the README's shell
 * block in bash. If the README's commands stop working, this fails.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/cli/redis-server.js';
import { PROJECT_ROOT } from '../../src/main.js';

function readmeWalk(): string {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const block = /<!-- walk -->\n```sh\n([\s\S]*?)\n```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no <!-- walk --> shell block');
  return block;
}

describe('the README walk', () => {
  it('takes a pickup from notice to collected with the commands as written', async () => {
    const varDir = mkdtempSync(join(tmpdir(), 'dokubox-walk-'));
    const port = await freePort();
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !['REDIS_URL', 'SECRET_KEY', 'PII_KEY', 'API_KEYS', 'NODE_ENV'].includes(k)) env[k] = v;
    // Quiet hours off: the walk must work whenever the tests run.
    const app = spawn(process.execPath, ['--import', 'tsx', 'simulator/start.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...env, PORT: String(port), VAR_DIR: varDir, SMS_QUIET_HOURS: 'off', BOX_OPENING_HOURS: 'ignore', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let banner = '';
    app.stdout.on('data', (d: Buffer) => (banner += d.toString()));
    app.stderr.resume();
    try {
      const exportLine = await new Promise<string>((resolve, reject) => {
        app.stdout.on('data', () => {
          const line = /^\s*(export API=.*)$/m.exec(banner)?.[1];
          if (line !== undefined) resolve(line);
        });
        app.once('exit', (code) => reject(new Error(`npm start exited (${code}): ${banner}`)));
      });
      const walk = spawn('bash', ['-e', '-o', 'pipefail', '-c', `${exportLine}\n${readmeWalk()}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      walk.stdout.on('data', (d: Buffer) => (out += d.toString()));
      walk.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const [code] = (await once(walk, 'exit')) as [number];
      expect(code, `${out}\n${err}`).toBe(0);
      expect(out).toMatch(/"outcome":"created"/);
      expect(out).toMatch(/compartment \d{3} is open/);
      expect(out).toMatch(/Code \d{6}/);
      expect(out).toMatch(/"door":"open"/);
      expect(out).toMatch(/"status":"notified"/);
      // The last step reads the reports a second after the door closed; the collection follows at once.
      const reports = /REPORTS=(\S+)/.exec(exportLine)?.[1] ?? '';
      const messageId = /"messageId":"(walk-\d+)"/.exec(out)?.[1];
      const deadline = Date.now() + 15_000;
      let statuses: string[] = [];
      while (!statuses.includes('collected') && Date.now() < deadline) {
        statuses = ((await (await fetch(`${reports}/reports`)).json()) as { messageId: string; status: string }[]).filter((r) => r.messageId === messageId).map((r) => r.status);
        if (!statuses.includes('collected')) await new Promise((resolve) => setTimeout(resolve, 100)); // polling another process
      }
      expect(statuses).toEqual(expect.arrayContaining(['reserved', 'loaded', 'notified', 'collected']));
    } finally {
      app.kill('SIGTERM');
      if (app.exitCode === null) await once(app, 'exit');
      rmSync(varDir, { recursive: true, force: true });
    }
  }, 60_000);
});
