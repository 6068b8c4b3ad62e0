// Kraken's public Time answered as a test says, in front of the product's Kraken simulator: every
// other request goes to the simulator as it was sent (signatures included), and Time too until the
// test gives an answer. For answers a real Kraken could give, wrong ones included (the recorded
// format: kraken-recordings.ts `time`).
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KrakenSimulator } from '../../src/simulator/simulator.js';

export interface TimeAnswers {
  /** Base URL for the adapter (KRAKEN_API_URL). */
  url: string;
  /** From now on, Time is answered with `body(now)` (now: this host's clock, ms) as JSON; null: by the simulator. */
  answer(body: ((now: number) => unknown) | null): void;
  /** Time requests answered here. */
  readonly answered: number;
  close(): Promise<void>;
}

export async function timeAnswersBefore(sim: KrakenSimulator): Promise<TimeAnswers> {
  const target = new URL(sim.url);
  let body: ((now: number) => unknown) | null = null;
  let answered = 0;
  const server: Server = createServer((req, res) => {
    if (body && /^\/0\/public\/Time(\?|$)/.test(req.url ?? '')) {
      answered += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body(Date.now())));
      return;
    }
    const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer: (b) => (body = b),
    get answered() {
      return answered;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
