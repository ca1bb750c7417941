/**
 * The app's router remembers the match of a path that binds no parameter (src/http/router.ts). It must give
 * what hono's default router gives for every method and path, static or not, and keep nothing that binds one.
 */
import type { Result } from 'hono/router';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { SmartRouter } from 'hono/router/smart-router';
import { TrieRouter } from 'hono/router/trie-router';
import { describe, expect, it } from 'vitest';
import { StaticMatchMemo } from '../../src/http/router.js';

const ROUTES: [string, string][] = [
  ['ALL', '/*'],
  ['ALL', '/*'],
  ['ALL', '/v1/*'],
  ['GET', '/livez'],
  ['POST', '/v1/notices'],
  ['POST', '/v1/notices'],
  ['GET', '/v1/pickups'],
  ['GET', '/v1/pickups/search'],
  ['GET', '/v1/pickups/search'],
  ['GET', '/v1/pickups/:pickupId'],
  ['GET', '/v1/pickups/:pickupId'],
  ['POST', '/v1/pickups/:pickupId/cancel'],
  ['GET', '/docs/assets/:file'],
  ['POST', '/soap/v1/pickup'],
  ['GET', '/kiosk/*'],
  ['POST', '/v1/boxes/:boxId/compartments/:compartment/open'],
  ['GET', '/v1/files/:name{.+\\.png}'],
];

const PATHS = [
  '/',
  '/livez',
  '/v1/notices',
  '/v1/notices/',
  '/v1/pickups',
  '/v1/pickups/search',
  '/v1/pickups/abc',
  '/v1/pickups/def',
  '/v1/pickups/abc/cancel',
  '/docs/assets/a.css',
  '/soap/v1/pickup',
  '/kiosk/x/y',
  '/v1/boxes/b1/compartments/7/open',
  '/v1/files/a/b.png',
  '/unknown',
  '/v1/unknown',
  `/v1/${'x'.repeat(300)}`,
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

type Handler = { route: number };

function defaultRouter(): SmartRouter<Handler> {
  return new SmartRouter<Handler>({ routers: [new RegExpRouter<Handler>(), new TrieRouter<Handler>()] });
}

/** A result as handlers and their parameter values (independent of how the router encodes them). */
function plain(result: Result<Handler>): [number, Record<string, string>][] {
  const stash = result[1];
  return result[0].map(([handler, params]) => {
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(params)) values[key] = stash === undefined ? String(value) : String(stash[value as number]);
    return [handler.route, values];
  });
}

describe('StaticMatchMemo', () => {
  it("gives hono's default router's match for every method and path, first and later times", () => {
    const memo = new StaticMatchMemo<Handler>(defaultRouter());
    const reference = defaultRouter();
    ROUTES.forEach(([method, path], route) => {
      memo.add(method, path, { route });
      reference.add(method, path, { route });
    });
    // As in the app, hono's RegExpRouter cannot take these routes and the trie serves them.
    memo.match('GET', '/');
    expect(memo.name).toBe('StaticMatchMemo(SmartRouter)');
    expect((memo as unknown as { inner: SmartRouter<Handler> }).inner.activeRouter.name).toBe('TrieRouter');
    for (let round = 0; round < 3; round++) {
      for (const method of METHODS) for (const path of PATHS) expect(plain(memo.match(method, path)), `${method} ${path}`).toEqual(plain(reference.match(method, path)));
    }
  });

  it('keeps the match of a path without parameters, never one with parameters', () => {
    const memo = new StaticMatchMemo<Handler>(defaultRouter());
    ROUTES.forEach(([method, path], route) => memo.add(method, path, { route }));
    const first = memo.match('POST', '/v1/notices');
    expect(memo.match('POST', '/v1/notices')).toBe(first);
    expect(plain(memo.match('GET', '/v1/pickups/abc'))).toContainEqual([10, { pickupId: 'abc' }]);
    expect(plain(memo.match('GET', '/v1/pickups/def'))).toContainEqual([10, { pickupId: 'def' }]);
    expect(memo.match('GET', '/v1/pickups/abc')).not.toBe(memo.match('GET', '/v1/pickups/abc'));
  });

  it('forgets what it kept when a route is added (a router that takes routes after matching)', () => {
    const memo = new StaticMatchMemo<Handler>(new TrieRouter<Handler>());
    memo.add('ALL', '/*', { route: 0 });
    expect(plain(memo.match('POST', '/v1/notices'))).toEqual([[0, {}]]);
    memo.add('POST', '/v1/notices', { route: 1 });
    expect(plain(memo.match('POST', '/v1/notices'))).toEqual([
      [0, {}],
      [1, {}],
    ]);
  });

  it('stays bounded: many different paths do not grow it past its limit', () => {
    const memo = new StaticMatchMemo<Handler>(defaultRouter());
    ROUTES.forEach(([method, path], route) => memo.add(method, path, { route }));
    for (let i = 0; i < 5_000; i++) memo.match('GET', `/unknown-${i}`);
    expect((memo as unknown as { memo: Map<string, unknown> }).memo.size).toBeLessThanOrEqual(512);
    expect(plain(memo.match('POST', '/v1/notices'))).toEqual([
      [0, {}],
      [1, {}],
      [2, {}],
      [4, {}],
      [5, {}],
    ]);
  });
});
