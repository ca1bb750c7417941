/**
 * The project tree: where mappings/, openapi.yaml and the case-system WSDL
 * files live. Found by walking up from this module to the package.json named
 * dokubox, so it is the same directory whether the code runs from its
 * TypeScript sources (src/) or compiled (dist/src/).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'dokubox';

export function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json named ${PACKAGE_NAME} in ${start} or above`);
  }
}

export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/** A path from the configuration: absolute as given, relative to the project tree otherwise. */
export function projectPath(path: string): string {
  return resolve(PROJECT_ROOT, path);
}
