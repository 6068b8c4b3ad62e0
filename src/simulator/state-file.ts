// Owns --state-file: the account (balances, orders, trades, nonces, dead man, status) and the market
// position, written atomically a moment after each change and on close, and read at start, so the
// simulator's own restart loses nothing a client could have seen. A generated key pair is kept in
// it too (file mode 0600), so the bot's environment stays valid across the simulator's restart; a
// pair given on the command line is never written.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { KrakenSimulator } from './simulator.js';
import { SYSTEM_STATUSES, type SimOrder, type SimTrade } from './types.js';

const SAVE_DELAY_MS = 200;

const savedSchema = z.object({
  version: z.literal(1),
  keys: z.object({ apiKey: z.string(), secret: z.string() }).optional(),
  balances: z.record(z.string(), z.string()),
  orders: z.array(z.object({ txid: z.string(), pair: z.string(), type: z.enum(['buy', 'sell']), vol: z.string(), vol_exec: z.string(), status: z.string(), opentm: z.number() }).loose()),
  trades: z.array(z.object({ txid: z.string(), ordertxid: z.string(), pair: z.string(), time: z.number(), price: z.string(), vol: z.string(), fee: z.string() }).loose()),
  nonces: z.record(z.string(), z.string()),
  deadMan: z.object({ timeoutSeconds: z.number(), triggerAt: z.number().nullable() }),
  systemStatus: z.enum(SYSTEM_STATUSES as [string, ...string[]]),
  tradeId: z.number().int(),
  path: z.object({
    t0: z.number(), closed: z.number(), ended: z.boolean(),
    pairs: z.record(z.string(), z.object({ mode: z.enum(['replay', 'fixed']), index: z.number(), scale: z.string(), price: z.string() })),
  }),
});

export class StateFile {
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly file: string, private readonly generatedKeys?: { apiKey: string; secret: string }) {}

  /** The generated key pair an earlier run kept, if any (read before the simulator is built). */
  static savedKeys(file: string): { apiKey: string; secret: string } | undefined {
    if (!existsSync(file)) return undefined;
    try {
      const raw = JSON.parse(readFileSync(file, 'utf8')) as { keys?: unknown };
      const keys = savedSchema.shape.keys.safeParse(raw.keys);
      return keys.success ? keys.data : undefined;
    } catch {
      return undefined; // restore() reports the unreadable file with its reason
    }
  }

  restore(sim: KrakenSimulator): boolean {
    if (!existsSync(this.file)) return false;
    let saved: z.infer<typeof savedSchema>;
    try {
      const parsed = savedSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      if (!parsed.success) throw new Error(z.prettifyError(parsed.error));
      saved = parsed.data;
    } catch (err) {
      throw new AppError('config', 'bad_state_file', `The simulator state file ${this.file} cannot be read: ${(err as Error).message}`, {
        hint: 'Point --state-file at another file, or delete this one to start a fresh account.',
      });
    }
    const { state } = sim;
    state.balances = saved.balances;
    state.orders.clear();
    for (const o of saved.orders) state.orders.set(o.txid, o as unknown as SimOrder);
    state.trades.length = 0;
    state.trades.push(...(saved.trades as unknown as SimTrade[]));
    state.deadMan = saved.deadMan;
    state.systemStatus = saved.systemStatus as typeof state.systemStatus;
    sim.nonces.load(saved.nonces);
    sim.ctx.seq.tradeId = saved.tradeId;
    sim.ctx.path.restore(saved.path);
    return true;
  }

  scheduleSave(sim: KrakenSimulator): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      try {
        this.#write(sim);
      } catch (err) {
        // A full disk must not kill the simulator under a running bot: say so, try again on the next change.
        sim.event(`could not save the state file ${this.file}: ${(err as Error).message}`);
      }
    }, SAVE_DELAY_MS);
  }

  async saveNow(sim: KrakenSimulator): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#write(sim);
  }

  #write(sim: KrakenSimulator): void {
    const { state } = sim;
    const saved: z.input<typeof savedSchema> = {
      version: 1, ...(this.generatedKeys ? { keys: this.generatedKeys } : {}), balances: state.balances, orders: [...state.orders.values()] as never, trades: state.trades as never,
      nonces: sim.nonces.toJSON(), deadMan: state.deadMan, systemStatus: state.systemStatus, tradeId: sim.ctx.seq.tradeId,
      path: sim.ctx.path.snapshot(),
    };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(saved), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
