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
