import { defineConfig } from 'vitest/config';
import InterleavedSequencer from './tests/support/sequencer.js';

export default defineConfig({
  test: {
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two test files at a time on two cores: most tests wait on sockets, processes and the browser, so one
    // file at a time (vitest's default there, cores - 1) leaves a core idle for most of the run.
    maxWorkers: 2,
    // A browser file next to a node file, the longest files first (tests/support/sequencer.ts).
    sequence: { sequencer: InterleavedSequencer },
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts', 'adapters/**/*.test.ts', 'simulator/**/*.test.ts'] },
      },
      {
        // Whole journeys through a real Chromium, several screens and an accessibility check each: they share
        // the machine with the other file and get more time before they count as hung.
        extends: true,
        test: { name: 'browser', include: ['tests/browser/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
      },
    ],
  },
});
