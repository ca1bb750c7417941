import type { ClientIdentity } from '../service/types.js';

/** Variables every request carries through the Hono context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    client: ClientIdentity | undefined;
  };
}
