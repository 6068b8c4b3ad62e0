// Replies to a request's response_url: the JSON body arrives as sent, on kept-alive connections;
// a reply Slack refuses (not 2xx) or a response_url that is not http(s) fails the reply, so the
// listener's error handling hears of it instead of the bot believing it answered.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postToResponseUrl, ResponseUrlError, responseUrlPoster } from '../../../src/slack/response-url.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  socket: number;
}

let server: Server | undefined;

async function slackAnswering(status: number): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const sockets = new Map<unknown, number>();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size + 1);
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), socket: sockets.get(req.socket)! });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{"ok":true}' : '{"ok":false,"error":"expired_url"}');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

afterEach(async () => {
  const s = server;
  server = undefined;
  if (s) await new Promise<void>((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  });
});

describe('replying to a response_url', () => {
  it('posts the message as JSON to the URL, query included, and reuses the connection', async () => {
    const slack = await slackAnswering(200);
    const message = { response_type: 'ephemeral', replace_original: false, text: 'PAPER · status ✓', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*mode* paper' } }] };
    await postToResponseUrl(`${slack.url}/commands/T0/123/abc?x=1`, message);
    // The first answer is read to its end before its connection goes back to the pool.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await responseUrlPoster(`${slack.url}/commands/T0/456/def`)!({ text: 'second' });
    expect(slack.received.map((r) => r.path)).toEqual(['/commands/T0/123/abc?x=1', '/commands/T0/456/def']);
    expect(slack.received[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(slack.received[0]!.body)).toEqual(message);
    expect(JSON.parse(slack.received[1]!.body)).toEqual({ text: 'second' });
    expect(slack.received.map((r) => r.socket)).toEqual([1, 1]);
  });

  it("fails a reply Slack refuses, with its status and Slack's reason", async () => {
    const slack = await slackAnswering(404);
    const failure = await postToResponseUrl(`${slack.url}/commands/T0/1/expired`, { text: 'late' }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ResponseUrlError);
    expect(failure).toMatchObject({ status: 404, code: 'expired_url', message: 'Failed to respond to the response_url: 404 expired_url' });
  });

  it('fails a reply whose connection is refused, and a reply whose answer is cut off', async () => {
    const closed = await slackAnswering(200);
    const url = closed.url;
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    await expect(postToResponseUrl(`${url}/commands/T0/1/gone`, { text: 'x' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"ok":');
        setTimeout(() => res.destroy(), 10);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const cut = postToResponseUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/commands/T0/2/cut`, { text: 'y' });
    await expect(cut).rejects.toThrow();
  });

  it('refuses a response_url that is not http(s), and has no poster for a request without one', async () => {
    await expect(postToResponseUrl('file:///etc/passwd', { text: 'x' })).rejects.toThrow('response_url is not http(s): file:');
    expect(responseUrlPoster(undefined)).toBeUndefined();
    expect(responseUrlPoster('')).toBeUndefined();
  });
});
