// A tiny static file server for the browser tests: serves one directory on 127.0.0.1 at a free
// port, optionally under a URL prefix (e.g. "/metastable/") to test sub-path deployment.
//
//   import { serve } from './server.mjs';
//   const server = await serve('dist', { prefix: '/metastable/' });
//   ... server.url ...   // "http://127.0.0.1:PORT/metastable/"
//   await server.close();
//
// Run alone: node tests/e2e/server.mjs [dir] [--prefix /metastable/] [--port 8080]
import http from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Normalises a prefix to "/" or "/something/". */
function normalisePrefix(prefix) {
  let p = prefix || '/';
  if (!p.startsWith('/')) p = '/' + p;
  if (!p.endsWith('/')) p += '/';
  return p;
}

/**
 * Serves `dir` on 127.0.0.1. Options: `prefix` (URL path the directory appears under, default
 * "/"), `port` (default 0: a free port), `log` (function called with each request's line).
 * Resolves to { url, port, prefix, requests, close() }; `requests` lists [status, path].
 */
export function serve(dir, { prefix = '/', port = 0, log = null } = {}) {
  const root = path.resolve(dir);
  const base = normalisePrefix(prefix);
  const requests = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const send = (status, body, headers = {}) => {
      requests.push([status, req.url]);
      if (log) log(`${status} ${req.method} ${req.url}`);
      res.writeHead(status, { 'Cache-Control': 'no-store', ...headers });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      return send(400, 'bad request');
    }
    // The prefix without its trailing slash redirects to it, like a real static host.
    if (base !== '/' && pathname === base.slice(0, -1)) {
      return send(301, '', { Location: base });
    }
    if (!pathname.startsWith(base)) return send(404, 'not found');
    let rel = pathname.slice(base.length);
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = path.resolve(root, rel);
    if (file !== root && !file.startsWith(root + path.sep)) return send(403, 'forbidden');
    let stat;
    try {
      stat = statSync(file);
    } catch {
      return send(404, 'not found');
    }
    if (stat.isDirectory()) return send(301, '', { Location: pathname.replace(/\/?$/, '/') });
    const type = MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
    requests.push([200, req.url]);
    if (log) log(`200 ${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': stat.size, 'Cache-Control': 'no-store' });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const actual = server.address().port;
      resolve({
        url: `http://127.0.0.1:${actual}${base}`,
        port: actual,
        prefix: base,
        requests,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

// Run directly: serve until interrupted.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let dir = 'dist';
  let prefix = '/';
  let port = 0;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--prefix') prefix = args[++i];
    else if (args[i] === '--port') port = Number(args[++i]);
    else dir = args[i];
  }
  const server = await serve(dir, { prefix, port, log: (line) => console.log(line) });
  console.log(`serving ${path.resolve(dir)} at ${server.url} (Ctrl-C stops)`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
