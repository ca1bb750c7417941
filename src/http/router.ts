/**
 * hono's default router, with the result of a path without parameters remembered. The app's routes include
 * some that hono's RegExpRouter cannot take (a static segment registered before a parameter at the same place,
 * e.g. /v1/pickups/search before /v1/pickups/:pickupId), so hono falls back to its TrieRouter, which walks
 * the trie on every request. A match depends only on the method, the path and the routes; for a path that
 * binds no parameter (POST /v1/notices, POST /soap/v1/pickup) the result is the same every time and is kept.
 * (hono's RegExpRouter hands out shared results for static routes the same way.) Paths with parameters are
 * matched each time. The memory is bounded: at most MAX_ENTRIES paths of at most MAX_PATH characters; when
 * full it starts over. Adding a route forgets everything.
 */
import type { Result, Router } from 'hono/router';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { SmartRouter } from 'hono/router/smart-router';
import { TrieRouter } from 'hono/router/trie-router';

const MAX_ENTRIES = 512;
const MAX_PATH = 256;

function bindsNothing<T>(result: Result<T>): boolean {
  for (const [, params] of result[0]) {
    for (const key in params) if (Object.prototype.hasOwnProperty.call(params, key)) return false;
  }
  return true;
}

export class StaticMatchMemo<T> implements Router<T> {
  readonly name: string;
  private readonly memo = new Map<string, Result<T>>();

  constructor(private readonly inner: Router<T>) {
    this.name = `StaticMatchMemo(${inner.name})`;
  }

  add(method: string, path: string, handler: T): void {
    this.memo.clear();
    this.inner.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    const key = `${method} ${path}`;
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const result = this.inner.match(method, path);
    if (path.length <= MAX_PATH && bindsNothing(result)) {
      if (this.memo.size >= MAX_ENTRIES) this.memo.clear();
      this.memo.set(key, result);
    }
    return result;
  }
}

/** The router of the app: hono's default (SmartRouter over RegExpRouter and TrieRouter) behind the memo. */
export function appRouter<T>(): StaticMatchMemo<T> {
  return new StaticMatchMemo<T>(new SmartRouter<T>({ routers: [new RegExpRouter<T>(), new TrieRouter<T>()] }));
}
