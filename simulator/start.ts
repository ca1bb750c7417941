/**
 * `npm start`: the middleware plus the simulated world (case system, SMS
 * gateway, lock boards, console) on one machine, nothing to configure. The
 * simulator parts are real servers; the middleware talks to them over the
 * wire. Time is simulated (SIMULATED_TIME=true unless set otherwise): one
 * world clock in the private Redis that the console speeds up or jumps.
 */
import { join } from 'node:path';
import { startOrExit } from '../src/cli/start.js';
import { loadBoxes } from '../src/mappings/loaders.js';
import { PROJECT_ROOT, projectPath } from '../src/project-root.js';
import { startSimulator } from './index.js';
import { RedisWorldTime } from './world-time.js';

startOrExit({
  companion: async (middlewareUrl, env) => {
    const boxes = [...loadBoxes(projectPath(env.BOXES_DIR ?? 'mappings/boxes')).values()];
    // The world and the middleware read one clock; with Sentinel or SIMULATED_TIME=false it is the wall clock.
    const simulated = env.SIMULATED_TIME !== 'false' && env.REDIS_URL !== undefined && env.REDIS_URL !== '';
    // The simulated boxes keep their contents under VAR_DIR, next to the private Redis that remembers the pickups.
    const simulator = await startSimulator({ middlewareUrl, boxes, varDir: env.VAR_DIR ?? join(PROJECT_ROOT, 'var') });
    return {
      headline: `simulator console  ${simulator.console.url}/  (the simulated world: box, phones, case system, faults, clock)`,
      env: { ...simulator.env, ...(simulated ? { SIMULATED_TIME: 'true' } : {}) },
      lines: simulator.parts.flatMap((p) => Object.entries(p.urls).map(([name, url]) => `simulator ${p.name} ${name}: ${url}`)),
      shell: Object.assign({}, ...simulator.parts.map((p) => p.shell ?? {})) as Record<string, string>,
      ready: async (url, access) => {
        simulator.ready(url, access);
        // The middleware has started (so its Redis answers) and made the world clock: the world reads the same one.
        if (simulated) await simulator.world.useTime(await RedisWorldTime.connect(env.REDIS_URL as string, env.REDIS_KEY_PREFIX ?? 'dokubox'));
      },
      close: () => simulator.close(),
    };
  },
});
