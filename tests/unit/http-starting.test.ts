// The HTTP server's answer to a path with no route: with `starting`, 503 "starting" and Retry-After
// until ready() (a route already added is served meanwhile); then, and on a server made without it,
// 404, or 405 when the path has a route for another method.
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, sendJson, type HttpServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/logger.js';

let http: HttpServer | undefined;
afterEach(async () => {
  await http?.close();
  http = undefined;
});

async function get(port: number, path: string, method = 'GET') {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, signal: AbortSignal.timeout(5_000) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
}

describe('HTTP server before and after ready()', () => {
  it('answers 503 starting for a path with no route until ready(), serving routes already added, then 404/405', async () => {
    http = createHttpServer(silentLogger(), { starting: true });
    const port = await http.listen(0, '127.0.0.1');
    expect(await get(port, '/healthz')).toEqual({ status: 503, retryAfter: '1', body: expect.objectContaining({ status: 'starting' }) });
    http.route('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
    expect(await get(port, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect((await get(port, '/metrics')).status).toBe(503);
    http.ready();
    expect(await get(port, '/metrics')).toMatchObject({ status: 404, retryAfter: null, body: { error: 'not found' } });
    expect(await get(port, '/healthz', 'POST')).toMatchObject({ status: 405, body: { error: 'method not allowed' } });
  });

  it('made without `starting`, answers 404 for a path with no route at once', async () => {
    http = createHttpServer(silentLogger());
    const port = await http.listen(0, '127.0.0.1');
    expect(await get(port, '/healthz')).toMatchObject({ status: 404, body: { error: 'not found' } });
  });
});
