/**
 * REST bodies over a real socket: a body of a declared length is read from
 * the Node request itself (src/http/node-body.ts), a streamed one through the
 * web Request with hono's body limit; both give the same answers and errors.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createWorld, KEYS, notice, type TestWorld } from '../support/harness.js';

let world: TestWorld;
let base: URL;
beforeAll(async () => {
  world = await createWorld({ env: { PORT: '0' } });
  base = new URL((await world.dokubox.listen()).url);
});
afterAll(async () => world.close());

interface Answer {
  status: number;
  body: { error?: { code: string; message: string }; pickup?: { state: string } };
}

/** Sends `chunks` as the body: with Content-Length when `declared`, else chunked (Transfer-Encoding). */
function send(chunks: string[], declared: boolean, contentType = 'application/json'): Promise<Answer> {
  const body = chunks.join('');
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method: 'POST',
        path: '/v1/notices',
        headers: { authorization: `Bearer ${KEYS.caseSystem}`, 'content-type': contentType, ...(declared ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer['body'] }));
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** A JSON text cut into pieces, so that the body arrives in several chunks. */
const pieces = (text: string, size = 40): string[] => text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? [];

describe('REST bodies on the wire', () => {
  it('creates a notice from a body of a declared length and from a streamed one, multi-byte characters included', async () => {
    for (const declared of [true, false]) {
      const text = JSON.stringify(notice({ person: { familyName: 'Müller-Ğülşen ٱلعربية', givenNames: 'Zoë', dateOfBirth: '1990-01-01' } }));
      const answer = await send(pieces(text, 7), declared);
      expect(answer.status, `declared ${declared}`).toBe(201);
      expect(answer.body.pickup?.state).toBe('reserved');
    }
  });

  it('answers malformed JSON with 400 MALFORMED_BODY and where it breaks, read either way', async () => {
    for (const declared of [true, false]) {
      const answer = await send(['{"messageId": "m-1",', ' "authority": }'], declared);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.code).toBe('MALFORMED_BODY');
      expect(answer.body.error?.message).toMatch(/line 1, column \d+/);
    }
  });

  it('refuses a body over the limit with 413 BODY_TOO_LARGE, declared or streamed', async () => {
    const big = `{"pad":"${'x'.repeat(world.config.BODY_LIMIT_BYTES)}"}`;
    for (const declared of [true, false]) {
      const answer = await send(pieces(big, 16 * 1024), declared);
      expect(answer.status, `declared ${declared}`).toBe(413);
      expect(answer.body.error?.code).toBe('BODY_TOO_LARGE');
    }
  });

  it('refuses a body that is not JSON by its media type with 415, read either way', async () => {
    for (const declared of [true, false]) {
      const answer = await send([JSON.stringify(notice())], declared, 'text/plain');
      expect(answer.status).toBe(415);
      expect(answer.body.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('takes a sender that goes away in the middle of a declared body as its refusal, not as a fault of the service, and stays up', async () => {
    const socket = connect(Number(base.port), base.hostname);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`POST /v1/notices HTTP/1.1\r\nHost: ${base.host}\r\nAuthorization: Bearer ${KEYS.caseSystem}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"messageId": "m-`);
    const requestLines = () => world.logs.filter((line) => line.includes('"route":"/v1/notices"') && line.includes('"msg":"request"'));
    const before = requestLines().length;
    socket.destroy();
    await vi.waitFor(() => expect(requestLines().length).toBeGreaterThan(before), { timeout: 5000, interval: 20 });
    expect(requestLines().at(-1)).toContain('"status":400');
    expect(world.logs.some((line) => line.includes('unhandled error'))).toBe(false);
    expect((await send([JSON.stringify(notice())], true)).status).toBe(201);
  });
});
