/**
 * Static assets of the screens, served by the same Hono app: style sheets as
 * they are, browser scripts compiled from TypeScript with esbuild once at
 * start-up (milliseconds; nothing is fetched at run time). URLs carry a
 * content hash, so a kiosk caches them for good and gets a new one after an
 * update.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { transformSync } from 'esbuild';

export interface Asset {
  /** Path with the content hash, e.g. `/kiosk/assets/kiosk.3f2a9c1b.css`. */
  url: string;
  type: string;
  body: string;
  bytes: number;
}

/**
 * Reads `file`: a .css as it is, a .ts compiled for browsers (a compiled .js
 * next to it when the .ts is not shipped), or a plain .js as it is (e.g. a
 * library's browser build from node_modules).
 */
export function loadAsset(file: string, base: string, name: string): Asset {
  let body: string;
  let type: string;
  if (file.endsWith('.ts')) {
    const source = existsSync(file) ? readFileSync(file, 'utf8') : readFileSync(file.replace(/\.ts$/, '.js'), 'utf8');
    body = transformSync(source, { loader: 'ts', minify: true, target: 'es2020', format: 'esm', legalComments: 'none' }).code;
    type = 'text/javascript; charset=utf-8';
  } else if (file.endsWith('.js')) {
    body = readFileSync(file, 'utf8');
    type = 'text/javascript; charset=utf-8';
  } else {
    body = readFileSync(file, 'utf8');
    type = 'text/css; charset=utf-8';
  }
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
  const [stem, ext] = [name.replace(/\.[^.]+$/, ''), file.endsWith('.ts') || file.endsWith('.js') ? 'js' : 'css'];
  return { url: `${base}/${stem}.${hash}.${ext}`, type, body, bytes: Buffer.byteLength(body) };
}
