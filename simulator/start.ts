/**
 * `npm start`: the middleware plus the simulated world (case system, SMS
 * gateway, lock boards, console) on one machine, nothing to configure. The
 * simulator parts are real servers; the middleware talks to them over the wire.
 */
import { join } from 'node:path';
import { startOrExit } from '../src/cli/start.js';
import { loadBoxes } from '../src/mappings/loaders.js';
import { PROJECT_ROOT, projectPath } from '../src/project-root.js';
import { startSimulator } from './index.js';

startOrExit({
  companion: async (middlewareUrl) => {
    const boxes = [...loadBoxes(projectPath(process.env.BOXES_DIR ?? 'mappings/boxes')).values()];
    // The simulated boxes keep their contents under VAR_DIR, next to the private Redis that remembers the pickups.
    const simulator = await startSimulator({ middlewareUrl, boxes, varDir: process.env.VAR_DIR ?? join(PROJECT_ROOT, 'var') });
    return {
      headline: `simulator console  ${simulator.console.url}/  (the simulated world: box, phones, case system, faults, clock)`,
      env: simulator.env,
      lines: simulator.parts.flatMap((p) => Object.entries(p.urls).map(([name, url]) => `simulator ${p.name} ${name}: ${url}`)),
      shell: Object.assign({}, ...simulator.parts.map((p) => p.shell ?? {})) as Record<string, string>,
      ready: (url, access) => simulator.ready(url, access),
      close: () => simulator.close(),
    };
  },
});
