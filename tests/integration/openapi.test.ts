import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { load as parseYaml } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type TestWorld } from '../support/harness.js';
import { readWithPyYaml } from '../support/pyyaml.js';

let world: TestWorld;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => world.close());

function openapiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z]+)(\{[^}]*\})?/g, '{$1}');
}

describe('openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const api = (await SwaggerParser.validate('openapi.yaml')) as { openapi: string };
    expect(api.openapi).toBe('3.1.0');
  });

  it('reads the same with a strict YAML 1.1 parser (PyYAML) as with the service\'s YAML 1.2 parser', () => {
    // E.g. a plain scalar with `?` inside a flow mapping: PyYAML takes `?` for the complex-key indicator and refuses the file.
    const strict = readWithPyYaml('openapi.yaml');
    expect(strict.error).toBeUndefined();
    expect(strict.data).toEqual(JSON.parse(JSON.stringify(parseYaml(readFileSync('openapi.yaml', 'utf8')))));
  });

  it('documents every route the app serves, and nothing it does not', async () => {
    const api = (await SwaggerParser.parse('openapi.yaml')) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(Object.entries(api.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => m !== 'parameters').map((m) => `${m.toUpperCase()} ${path}`)));
    const served = new Set(
      world.dokubox.app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method} ${openapiPath(r.path)}`)
        // The touchscreen's pages and the calls of its own script are not the API (docs/kiosk.md), nor are the dashboard's pages (docs/dashboard.md).
        .filter((r) => !/ \/(docs|openapi|kiosk\b|dashboard\b)/.test(r)),
    );
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
  });
});
