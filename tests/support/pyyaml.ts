/**
 * Reads a YAML file with PyYAML (Debian package python3-yaml), the strict
 * YAML 1.1 parser many tools (and people) use on our files. Where PyYAML
 * refuses a document or reads it differently from the service's YAML 1.2
 * parser, someone's tooling breaks: tests compare the two.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const SCRIPT = `
import json, sys, yaml
try:
    data = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
except yaml.YAMLError as error:
    print(json.dumps({"error": str(error)}))
else:
    print(json.dumps({"data": data}, default=str))
`;

/** PyYAML's reading of `path` as JSON data, or its error message. */
export function readWithPyYaml(path: string): { data?: unknown; error?: string } {
  // Debian's interpreter first (python3-yaml installs there), then whatever python3 is on the PATH.
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const run = spawnSync(python, ['-c', SCRIPT, path], { encoding: 'utf8' });
  if (run.error !== undefined || run.status !== 0) {
    throw new Error(`PyYAML is missing: install it (Debian: apt-get install -y python3-yaml) to check YAML files with it (${run.error?.message ?? run.stderr.trim()})`);
  }
  return JSON.parse(run.stdout) as { data?: unknown; error?: string };
}
