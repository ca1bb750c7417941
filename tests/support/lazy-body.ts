import { request as httpRequest } from 'node:http';

/**
 * A request body that is produced only while it is read, so a test can say
 * how much of it the server consumed (`pulled()`), e.g. none when a request is
 * refused from its headers, or little more than a limit.
 */
export function lazyBody(source: number | string, chunk = 4096): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  const bytes = typeof source === 'string' ? Buffer.from(source, 'utf8') : undefined;
  const total = bytes?.length ?? (source as number);
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled >= total) return controller.close();
        const size = Math.min(chunk, total - pulled);
        controller.enqueue(bytes === undefined ? new Uint8Array(size).fill(0x20) : new Uint8Array(bytes.subarray(pulled, pulled + size)));
        pulled += size;
      },
    },
    // Nothing is pulled before someone reads.
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled };
}

/** A Request with a streamed body (for `app.request`). */
export function streamingRequest(url: string, headers: Record<string, string>, body: ReadableStream<Uint8Array> | string): Request {
  return new Request(url, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
}

/**
 * Sends the headers of a POST declaring a `declared`-byte body and then only
 * `sent` bytes of it; resolves with the answer without sending the rest (a
 * server that refuses before reading answers anyway).
 */
export function answerToPartialUpload(url: URL, headers: Record<string, string>, declared: number, sent: number): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'content-length': String(declared) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection });
      });
    });
    req.on('error', reject);
    req.write(Buffer.alloc(sent, 0x20));
  });
}

/**
 * Sends a POST without a declared length (Transfer-Encoding: chunked), `chunk`
 * after `chunk` until the server answers or `max` bytes went out; resolves
 * with the answer and how much was sent before it came.
 */
export function answerToChunkedUpload(url: URL, headers: Record<string, string>, chunk: string, max: number): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: text, sent });
      });
    });
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const pump = (): void => {
      while (!answered && sent < max) {
        sent += Buffer.byteLength(chunk);
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}
