// What the benches that run ctb as a child process share: the machine's load as they print it, the
// median of a round's figures, a free local port, and whether a bot on a port answers /healthz 200.
import { createServer, type AddressInfo } from 'node:net';
import { loadavg } from 'node:os';

/** The 1-, 5- and 15-minute load averages, two decimals each. */
export const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** The median (the mean of the two middle values for an even count). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A port nobody listens on now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Whether a bot on `port` answers /healthz with 200 within 2 s. */
export async function healthzOk(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
