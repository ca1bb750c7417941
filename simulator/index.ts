/**
 * The simulated world for the zero-config start and for testers: real
 * servers that speak the wire protocols of the case system, the SMS gateway
 * and the lock boards. Each part registers itself here.
 */
import { join } from 'node:path';
import type { BoxDefinition } from '../src/core/box.js';
import { startCaseSystemPart } from './case-system/part.js';
import { startLockerPart } from './locker/part.js';
import { startSmsPart } from './sms-gateway/part.js';

export interface SimulatorPart {
  name: string;
  /** Human-readable addresses to print at start-up. */
  urls: Record<string, string>;
  /** Environment overrides that point the middleware at this part. */
  env: Record<string, string>;
  /** Shell variables for a tester's terminal (the README's walk), printed as one export line. */
  shell?: Record<string, string>;
  /** Called once the middleware listens. */
  ready?(middlewareUrl: string): void;
  close(): Promise<void>;
}

export interface Simulator {
  parts: SimulatorPart[];
  env: Record<string, string>;
  ready(middlewareUrl: string): void;
  close(): Promise<void>;
}

export interface SimulatorContext {
  middlewareUrl: () => string;
  /** The boxes the middleware will load (from BOXES_DIR). */
  boxes: BoxDefinition[];
  /** Where the simulated world keeps its state across restarts (`VAR_DIR`, like Redis and the secrets); none: nothing is kept. */
  varDir?: string;
}

export type PartFactory = (context: SimulatorContext) => Promise<SimulatorPart>;

export const PART_FACTORIES: PartFactory[] = [
  (context) => startLockerPart(context.boxes, context.varDir === undefined ? {} : { stateDir: join(context.varDir, 'simulator') }),
  (context) => startCaseSystemPart(context),
  () => startSmsPart(),
];

export async function startSimulator(context: SimulatorContext): Promise<Simulator> {
  const parts: SimulatorPart[] = [];
  for (const factory of PART_FACTORIES) parts.push(await factory(context));
  return {
    parts,
    env: Object.assign({}, ...parts.map((p) => p.env)) as Record<string, string>,
    ready: (url) => parts.forEach((p) => p.ready?.(url)),
    close: async () => {
      for (const part of parts.reverse()) await part.close();
    },
  };
}
