// Owns the bot under soak: `ctb start` of the release it rehearses as a child process with the rehearsal's environment, each
// incarnation's port (PORT=0: the bot prints the one it took), its /healthz, and the two ways it
// ends — SIGKILL at a random point (kill -9: no cleanup, nothing flushed) or SIGTERM at the end.
import { startChild, waitUntil, type Env, type LongChild } from './child.js';

export interface Health {
  mode: string;
  requestedMode: string;
  /** The running engine's arming (its lease); null on a 503 (unread). armedHere: the answering process's IS_LIVE. */
  armed: boolean | null;
  armedHere?: boolean;
  halted: boolean;
  tradingState?: string;
  engineHeartbeatAt: string | null;
  /** The process that runs the engine; thisProcess: whether it is the one that answered. */
  engine?: { thisProcess?: boolean };
  [key: string]: unknown;
}

export interface BotIncarnation {
  child: LongChild;
  url: string;
  startedAt: number;
}

export class SoakBot {
  readonly incarnations: BotIncarnation[] = [];

  /** `bin`: the release's bin/ctb.js (tests/support/release-dir.ts), the build the engine runs and the release check judges. */
  constructor(private readonly env: Env, private readonly cwd: string, private readonly bin: string, private readonly onLine?: (line: string) => void) {}

  get current(): BotIncarnation {
    const last = this.incarnations.at(-1);
    if (!last) throw new Error('the bot was never started');
    return last;
  }

  /** Starts `ctb start` (the release's built CLI) and waits until its HTTP server answers; the bound only catches a hang. */
  async start(): Promise<BotIncarnation> {
    const child = startChild(['start'], { ...this.env, PORT: '0' }, this.cwd, this.onLine, this.bin);
    const [, port] = await child.waitFor(/"msg":"ctb running on port (\d+)/, 240_000);
    const incarnation = { child, url: `http://127.0.0.1:${port}`, startedAt: Date.now() };
    this.incarnations.push(incarnation);
    return incarnation;
  }

  async health(): Promise<Health | null> {
    try {
      const res = await fetch(`${this.current.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
      return res.ok ? ((await res.json()) as Health) : null;
    } catch {
      return null;
    }
  }

  /** Waits until /healthz satisfies `cond` (the bot is polled; its answers are the event). */
  async waitForHealth(cond: (h: Health) => boolean, timeoutMs: number, what: string): Promise<Health> {
    let last: Health | null = null;
    await waitUntil(async () => {
      if (!this.current.child.running()) throw new Error(`the bot exited while waiting for ${what}:\n${this.current.child.output().slice(-4000)}`);
      last = await this.health();
      return last !== null && cond(last);
    }, timeoutMs, () => `waiting for ${what}; last /healthz: ${JSON.stringify(last)}\n${this.current.child.output().slice(-3000)}`, 500);
    return last!;
  }

  /** kill -9: the process gets no chance to clean up. */
  async kill9(): Promise<void> {
    this.current.child.signal('SIGKILL');
    await this.current.child.exited;
  }

  async stop(): Promise<number | null> {
    const { child } = this.current;
    child.signal('SIGTERM');
    const code = await Promise.race([child.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
    if (code === 'hung') {
      child.signal('SIGKILL');
      throw new Error(`the bot did not stop within 60 s of SIGTERM:\n${child.output().slice(-3000)}`);
    }
    return code;
  }

  /** Everything every incarnation printed, oldest first. */
  output(): string {
    return this.incarnations.map((i, n) => `===== incarnation ${n + 1} (pid ${i.child.pid})\n${i.child.output()}`).join('\n');
  }
}
