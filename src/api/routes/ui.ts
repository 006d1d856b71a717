import { readFileSync } from 'node:fs';
import type { Route } from '../route.ts';

/**
 * The read-only web view: four static files, no bundler and no CDN (nodes may be offline). The page holds no
 * data; it reads the API with the token given in the URL fragment (`/ui#token=…`, never sent to the server) or
 * typed into it.
 */

const file = (name: string) => readFileSync(new URL(`../ui/${name}`, import.meta.url), 'utf8');
const FILES = {
  html: file('index.html'),
  js: file('app.js'),
  farm: file('farm.js'),
  css: file('app.css'),
};
const HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const serve = (url: string, type: string, body: string): Route => ({
  method: 'GET',
  url,
  scope: 'public',
  docs: [],
  handler: async (_req, reply) => reply.headers(HEADERS).type(type).send(body),
});

export const uiRoutes: Route[] = [
  serve('/ui', 'text/html; charset=utf-8', FILES.html),
  serve('/ui/', 'text/html; charset=utf-8', FILES.html),
  serve('/ui/app.js', 'text/javascript; charset=utf-8', FILES.js),
  serve('/ui/farm.js', 'text/javascript; charset=utf-8', FILES.farm),
  serve('/ui/app.css', 'text/css; charset=utf-8', FILES.css),
];
