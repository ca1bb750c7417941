/**
 * API documentation served from the package itself (swagger-ui-dist), so
 * /docs works offline and without any CDN.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { load as parseYaml } from 'js-yaml';
import type { AppEnv } from './context.js';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dokubox API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });`;

export function docsRoutes(openapiPath: string): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Only the package's files are served: its main module would load the whole browser bundle into this process.
  const assetDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const yamlText = readFileSync(openapiPath, 'utf8');
  // Converted on first use, not at start-up (tests/integration/openapi.test.ts checks the document).
  let json: string | undefined;
  const cache = new Map<string, Buffer>();

  app.get('/openapi.yaml', (c) => c.body(yamlText, 200, { 'content-type': 'application/yaml; charset=utf-8' }));
  app.get('/openapi.json', (c) => c.body((json ??= JSON.stringify(parseYaml(yamlText))), 200, { 'content-type': 'application/json; charset=utf-8' }));
  app.get('/docs', (c) => c.html(PAGE));
  app.get('/docs/init.js', (c) => c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  app.get('/docs/assets/:file', (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (type === undefined) return c.notFound();
    let body = cache.get(file);
    if (body === undefined) {
      body = readFileSync(join(assetDir, file));
      cache.set(file, body);
    }
    return c.body(new Uint8Array(body), 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
  });
  return app;
}
