// Owns the simulator's HTTP edge: routes /0/public/* and /0/private/* like Kraken (form-encoded
// private POSTs checked by auth.ts, the REST counter, the system status) and /_sim/* to the control
// API; records every Kraken call; applies injected faults before the request is processed, or after
// it (the order exists, the answer is lost). Answers are Kraken's `{ error, result }` JSON.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { authProblem } from './auth.js';
import { handleControl } from './control-api.js';
import { cloudflareHtml, type FaultSpec } from './faults.js';
import { privateAnswer } from './private-api.js';
import { publicAnswer } from './public-api.js';
import type { KrakenSimulator } from './simulator.js';
import { fail, type KrakenAnswer } from './types.js';

const KRAKEN_PATH = /^\/0\/(public|private)\/([A-Za-z]+)$/;
const MAX_BODY = 1_000_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Answers with the fault instead of `answer` (undefined: the request was not processed). Returns false for latency, which only delays. */
async function applyFault(fault: FaultSpec, req: IncomingMessage, res: ServerResponse, answer: KrakenAnswer | undefined): Promise<boolean> {
  switch (fault.kind) {
    case 'latency':
      await sleep(fault.ms ?? 0);
      return false;
    case 'http_5xx': {
      const status = fault.status ?? 502;
      if (fault.json) send(res, status, JSON.stringify(fail(fault.message ?? 'EService:Unavailable')));
      else send(res, status, cloudflareHtml(status), 'text/html');
      return true;
    }
    case 'truncated': {
      const full = JSON.stringify(answer ?? { error: [], result: {} });
      send(res, 200, full.slice(0, Math.max(1, Math.floor(full.length / 2))));
      return true;
    }
    case 'empty':
      send(res, 200, '');
      return true;
    case 'reset':
      req.socket.destroy();
      return true;
    case 'error':
      send(res, 200, JSON.stringify(fail(fault.message ?? 'EService:Unavailable')));
      return true;
  }
}

function paramsOf(api: 'public' | 'private', url: URL, body: string, contentType: string | undefined): Record<string, string> {
  if (api === 'public') return Object.fromEntries(url.searchParams);
  if (contentType?.includes('application/json')) {
    try {
      const parsed = JSON.parse(body) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(body));
}

function krakenAnswer(sim: KrakenSimulator, api: 'public' | 'private', endpoint: string, req: IncomingMessage, path: string, body: string, raw: Record<string, string>, params: Record<string, string>): KrakenAnswer {
  if (api === 'public') return publicAnswer(sim.ctx, endpoint, params);
  const header = (name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const problem = authProblem(sim.keys, sim.nonces, { path, body, apiKey: header('api-key'), apiSign: header('api-sign'), nonce: raw['nonce'] });
  if (problem) return fail(problem);
  if (!sim.ctx.rates.chargeRest(header('api-key')!, endpoint, sim.ctx.now())) return fail('EAPI:Rate limit exceeded');
  if (sim.state.systemStatus === 'maintenance') return fail('EService:Unavailable');
  return privateAnswer(sim.ctx, endpoint, params);
}

async function handle(sim: KrakenSimulator, req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  if (url.pathname.startsWith('/_sim/') || url.pathname === '/_sim') {
    const { status, json } = handleControl(sim, req.method ?? 'GET', url, body);
    return send(res, status, JSON.stringify(json, null, 2));
  }
  const match = KRAKEN_PATH.exec(url.pathname);
  if (!match) return send(res, 404, JSON.stringify(fail('EGeneral:Unknown method')));
  const api = match[1] as 'public' | 'private';
  const endpoint = match[2]!;
  if (api === 'private' && req.method !== 'POST') return send(res, 405, JSON.stringify(fail('EGeneral:Invalid arguments')));
  const raw = paramsOf(api, url, body, req.headers['content-type']);
  const { nonce: _nonce, ...params } = raw;
  sim.record({ api, endpoint, method: req.method ?? 'GET', params, at: sim.ctx.now() });
  sim.sweep();
  const delay = sim.latency.get(endpoint) ?? sim.latency.get('*') ?? 0;
  if (delay > 0) await sleep(delay);
  const hold = sim.holds.get(endpoint);
  if (hold) await hold;
  const fault = sim.faults.take(endpoint);
  if (fault) sim.event(`fault on ${endpoint}: ${fault.kind}${fault.after ? ' (after processing)' : ''}`);
  if (fault && !fault.after && (await applyFault(fault, req, res, undefined))) return;
  const answer = krakenAnswer(sim, api, endpoint, req, url.pathname, body, raw, params);
  if (fault?.after && (await applyFault(fault, req, res, answer))) return;
  send(res, 200, JSON.stringify(answer));
}

export function createSimulatorServer(sim: KrakenSimulator): Server {
  return createServer((req, res) => {
    sim.options.onRequestStart?.(req.url ?? '/', performance.now());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.socket.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      handle(sim, req, res, Buffer.concat(chunks).toString('utf8')).catch((e: unknown) => {
        send(res, 500, JSON.stringify(fail(`EGeneral:Internal error: ${(e as Error).message}`)));
      });
    });
  });
}
