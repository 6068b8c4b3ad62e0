// The running bot's self-heal watchdog: every WATCHDOG_INTERVAL it runs self-heal (database,
// saved kill, exchange, engine heartbeat) — one run at a time, however long a backoff takes.
// Like self-heal it alerts on every repair or failure and never lifts a halt.
import type { AppContext } from '../../app/context.js';
import { selfHeal, type SelfHealOptions, type SelfHealResult } from './self-heal.js';

export interface Watchdog {
  /** One run (the timer calls it; tests call it). */
  tick(): Promise<SelfHealResult | null>;
  stop(): Promise<void>;
}

export function startWatchdog(ctx: AppContext, opts: SelfHealOptions & { intervalMs?: number; timer?: boolean } = {}): Watchdog {
  let running: Promise<SelfHealResult | null> | null = null;
  const tick = () => {
    running ??= selfHeal(ctx, { attempts: 3, baseDelayMs: 1_000, ...opts })
      .catch((err: unknown) => {
        ctx.logger.error({ err }, 'the self-heal watchdog failed');
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = opts.timer === false ? undefined : setInterval(() => void tick(), opts.intervalMs ?? ctx.config.WATCHDOG_INTERVAL);
  timer?.unref();
  return {
    tick,
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
