import type { ClientIdentity } from '../service/types.js';

/** Variables every request carries through the Hono context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    client: ClientIdentity | undefined;
    /** What a route adds to the request's log line (one line per request: each line costs a write and a serialisation). */
    logFields: Record<string, string | number> | undefined;
    /** The body's declared length, once the body limit found it within the limit (readJson then reads the Node request). */
    declaredBodyBytes: number | undefined;
  };
}
