/**
 * API-key authentication for machine clients (case system, kiosk device,
 * locker controller, staff tools, admin, monitoring). Keys are configured as
 * SHA-256 hashes; a presented key is hashed and looked up. Each route names
 * the roles it admits; `admin` is admitted everywhere within its authority.
 */
import { hash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { DokuboxError } from '../core/errors.js';
import type { ApiKeyEntry } from '../config.js';
import type { ClientIdentity, Role } from '../service/types.js';
import type { AppEnv } from './context.js';

/** SHA-256 of the UTF-8 text, hex: node's one-shot hash (the same digest as createHash, without a Hash object per call). */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

export class ApiKeyAuthenticator {
  private readonly byHash: Map<string, ClientIdentity>;

  constructor(entries: readonly ApiKeyEntry[]) {
    this.byHash = new Map(entries.map((e) => [e.sha256, { id: e.id, role: e.role, authority: e.authority }]));
  }

  identify(presented: string | undefined): ClientIdentity | undefined {
    if (presented === undefined || presented.length < 16 || presented.length > 256) return undefined;
    return this.byHash.get(sha256Hex(presented));
  }
}

export function presentedKey(authorization: string | undefined, apiKeyHeader: string | undefined): string | undefined {
  if (apiKeyHeader !== undefined && apiKeyHeader !== '') return apiKeyHeader.trim();
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  return match?.[1];
}

/** Requires an API key with one of the roles (admin always passes). */
export function requireRole(auth: ApiKeyAuthenticator, ...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const client = auth.identify(presentedKey(c.req.header('authorization'), c.req.header('x-api-key')));
    if (client === undefined) {
      throw new DokuboxError('UNAUTHENTICATED', 'Missing or unknown API key; send it as "Authorization: Bearer <key>" or "X-Api-Key: <key>".');
    }
    c.set('client', client);
    if (client.role !== 'admin' && !roles.includes(client.role)) {
      throw new DokuboxError('FORBIDDEN', `Your API key has role '${client.role}'; this endpoint needs one of: ${['admin', ...roles].join(', ')}.`);
    }
    await next();
  };
}
