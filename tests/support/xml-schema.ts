/**
 * Validates XML against the served schema (adapters/case-system/wsdl/pickup.xsd)
 * with xmllint (Debian package libxml2-utils).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PICKUP_XSD } from '../../adapters/case-system/wsdl.js';

/** Returns xmllint's complaints, or '' when `xml` is valid against pickup.xsd. */
export function schemaErrors(xml: string): string {
  const probe = spawnSync('xmllint', ['--version'], { stdio: 'ignore' });
  if (probe.error !== undefined) throw new Error('xmllint is missing: install it (Debian: apt-get install -y libxml2-utils) to validate against the XSD');
  const dir = mkdtempSync(join(tmpdir(), 'dokubox-xsd-'));
  try {
    const file = join(dir, 'doc.xml');
    writeFileSync(file, xml);
    const run = spawnSync('xmllint', ['--noout', '--nonet', '--schema', PICKUP_XSD, file], { encoding: 'utf8' });
    return run.status === 0 ? '' : `${run.stderr}${run.stdout}`.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The `dokubox:DokuboxFault` element of a SOAP fault as a document of its own (it declares its namespace). */
export function faultDetailElement(envelope: string): string {
  const match = /<dokubox:DokuboxFault xmlns:dokubox="[^"]+">[\s\S]*?<\/dokubox:DokuboxFault>/.exec(envelope);
  if (match === null) throw new Error(`no DokuboxFault detail in ${envelope}`);
  return `<?xml version="1.0" encoding="utf-8"?>${match[0]}`;
}
