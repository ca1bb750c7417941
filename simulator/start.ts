/**
 * `npm start`: the middleware plus the simulated world (case system, SMS
 * gateway, lock boards) on one machine, nothing to configure. The simulator
 * parts are real servers; the middleware talks to them over the wire.
 */
import { startOrExit } from '../src/cli/start.js';
import { startSimulator } from './index.js';

startOrExit({
  companion: async (middlewareUrl) => {
    const simulator = await startSimulator({ middlewareUrl });
    return {
      env: simulator.env,
      lines: simulator.parts.flatMap((p) => Object.entries(p.urls).map(([name, url]) => `simulator ${p.name} ${name}: ${url}`)),
      close: () => simulator.close(),
    };
  },
});
