// Owns the one HTTP server of the process: GET /healthz, GET /metrics, and POST /slack/events
// (handed to the Slack receiver when Slack runs over HTTP). Routes are a table; features add theirs.
// A bot binds its port before its parts start (runtime.ts): until it says it is ready, a path with
// no route yet is answered 503 "starting" with Retry-After, not 404 — a probe of /healthz during a
// start is told to wait, not that the path does not exist.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpServer {
  server: Server;
  route(method: string, path: string, handler: Handler): void;
  /** Every part has added its routes: from now on a path with no route is a 404. */
  ready(): void;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export interface HttpServerOptions {
  /** Answer paths with no route 503 "starting" until ready() (default: ready at once). */
  starting?: boolean;
}

export function createHttpServer(logger: Logger, opts: HttpServerOptions = {}): HttpServer {
  const routes = new Map<string, Handler>();
  let starting = opts.starting === true;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handler = routes.get(`${req.method} ${path}`);
    if (!handler && starting) {
      res.setHeader('retry-after', '1');
      sendJson(res, 503, { status: 'starting', error: 'the bot is starting: this path is served once the part that serves it has started' });
      return;
    }
    if (!handler) {
      const known = [...routes.keys()].filter((k) => k.endsWith(` ${path}`));
      sendJson(res, known.length > 0 ? 405 : 404, { error: known.length > 0 ? 'method not allowed' : 'not found' });
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        logger.error({ err, path }, 'http handler failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.end();
      });
  });
  server.keepAliveTimeout = 65_000;
  return {
    server,
    route(method, path, handler) {
      routes.set(`${method.toUpperCase()} ${path}`, handler);
    },
    ready() {
      starting = false;
    },
    listen(port, host = '0.0.0.0') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}
