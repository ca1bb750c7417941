/**
 * The body of a request read from the Node request itself under @hono/node-server, without the web
 * Request and ReadableStream that reading through `c.req` builds around it (docs/performance.md).
 * Requests made in-process (app.request, tests) have no Node request: callers then read `c.req`.
 */
import { DokuboxError } from '../core/errors.js';

/** The Node request under @hono/node-server, whose body has not been touched through the web Request. */
export interface NodeIncoming {
  readableDidRead?: boolean;
  complete?: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeAllListeners(event: string): unknown;
  pause(): unknown;
}

export function nodeIncomingOf(incoming: unknown): NodeIncoming | undefined {
  const candidate = incoming as Partial<NodeIncoming> | undefined;
  return typeof candidate?.on === 'function' && typeof candidate.pause === 'function' && candidate.readableDidRead === false ? (candidate as NodeIncoming) : undefined;
}

/**
 * readBodyLimited on the Node request itself (the same checks, without a web ReadableStream in
 * between): a declared Content-Length over `max` is refused before anything is read, a streamed
 * body as soon as it passes the limit; `inspect` sees each chunk as it arrives and may throw to
 * refuse the body early, and the rest is then not read.
 */
export function readIncomingLimited(incoming: NodeIncoming, headers: Headers, max: number, inspect?: (chunk: Uint8Array) => void): Promise<Buffer> {
  const declared = Number(headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(new DokuboxError('BODY_TOO_LARGE', `The body is larger than ${max} bytes; send one notice per request.`));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const stop = (error: unknown): void => {
      if (settled) return;
      settled = true;
      incoming.removeAllListeners('data');
      incoming.pause();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    incoming.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.byteLength;
      try {
        if (size > max) throw new DokuboxError('BODY_TOO_LARGE', `The body is larger than ${max} bytes; send one notice per request.`);
        inspect?.(chunk);
      } catch (error) {
        stop(error);
        return;
      }
      chunks.push(chunk);
    });
    incoming.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    // The sender went away mid-body (reset or closed): its request, not a fault of ours, nor Redis's (an aborted
    // socket's ECONNRESET would read as one): a 400 nobody reads, logged as a refusal.
    // Every request closes after its body was read: the error (and its stack) only when it matters.
    const gone = (): void => {
      if (!settled) stop(new DokuboxError('MALFORMED_BODY', 'The connection closed before the whole body arrived; send the request again.'));
    };
    incoming.on('error', gone);
    incoming.on('close', gone);
  });
}
