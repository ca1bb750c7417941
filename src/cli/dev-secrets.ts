/**
 * Development secrets for the zero-config start: generated once into
 * ./var/dev-secrets.json so that data stays readable across restarts.
 * Production must set SECRET_KEY, PII_KEY and API_KEYS itself.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ROLES, type Role } from '../service/types.js';
import { sha256Hex } from '../http/auth.js';

export interface DevSecrets {
  secretKey: string;
  piiKey: string;
  /** Plain keys per authority and role, printed at start-up for testers. */
  apiKeys: { id: string; role: Role; authority: string; key: string }[];
}

export function loadOrCreateDevSecrets(file: string, authorities: string[]): DevSecrets {
  let secrets: DevSecrets | undefined;
  if (existsSync(file)) secrets = JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  secrets ??= { secretKey: randomBytes(32).toString('base64'), piiKey: randomBytes(32).toString('base64'), apiKeys: [] };
  let changed = !existsSync(file);
  for (const authority of authorities) {
    for (const role of ROLES) {
      if (!secrets.apiKeys.some((k) => k.authority === authority && k.role === role)) {
        secrets.apiKeys.push({ id: `dev-${role}-${authority}`, role, authority, key: `dev_${role}_${randomBytes(18).toString('base64url')}` });
        changed = true;
      }
    }
  }
  if (changed) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}

export function apiKeysEnv(secrets: DevSecrets): string {
  return JSON.stringify(secrets.apiKeys.map((k) => ({ id: k.id, role: k.role, authority: k.authority, sha256: sha256Hex(k.key) })));
}
