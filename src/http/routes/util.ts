import type { Context } from 'hono';
import { DokuboxError } from '../../core/errors.js';
import type { ClientIdentity } from '../../service/types.js';
import type { AppEnv } from '../context.js';

export function clientOf(c: Context<AppEnv>): ClientIdentity {
  const client = c.get('client');
  if (client === undefined) throw new DokuboxError('UNAUTHENTICATED', 'This endpoint needs an API key.');
  return client;
}
