/**
 * `npm start`: the middleware plus the simulated world (case system, SMS
 * gateway, lock boards) on one machine, nothing to configure. The simulator
 * parts are real servers; the middleware talks to them over the wire.
 */
import { startOrExit } from '../src/cli/start.js';
import { loadBoxes } from '../src/mappings/loaders.js';
import { projectPath } from '../src/project-root.js';
import { startSimulator } from './index.js';

startOrExit({
  companion: async (middlewareUrl) => {
    const boxes = [...loadBoxes(projectPath(process.env.BOXES_DIR ?? 'mappings/boxes')).values()];
    const simulator = await startSimulator({ middlewareUrl, boxes });
    return {
      env: simulator.env,
      lines: simulator.parts.flatMap((p) => Object.entries(p.urls).map(([name, url]) => `simulator ${p.name} ${name}: ${url}`)),
      shell: Object.assign({}, ...simulator.parts.map((p) => p.shell ?? {})) as Record<string, string>,
      ready: (url) => simulator.ready(url),
      close: () => simulator.close(),
    };
  },
});
