// Owns which Exchange the bot talks to. Paper is an Exchange implementation, not an if(live)
// scattered through the code. The Kraken adapter is built when asked for (the running bot asks at
// start when it has keys); it refuses to place or amend orders unless the process is armed
// (IS_LIVE=true), and cancels and reads whether armed or not.
import type { Config } from '../config/env.js';
import { AppError } from '../errors.js';
import type { Mode } from '../services/bot-state.js';
import type { Exchange } from './types.js';

export interface ExchangeProviderDeps {
  paper: () => Exchange;
  /** Builds the Kraken adapter; `armed` decides whether order-changing endpoints may be called. */
  kraken: (opts: { armed: boolean }) => Exchange;
}

export class ExchangeProvider {
  #paper: Exchange | undefined;
  #kraken: Exchange | undefined;

  constructor(
    private readonly config: Config,
    private readonly deps: ExchangeProviderDeps,
  ) {}

  get armed(): boolean {
    return this.config.IS_LIVE;
  }

  paper(): Exchange {
    this.#paper ??= this.deps.paper();
    return this.#paper;
  }

  /** Kraken with the configured key. Cancels and reads work unarmed; placing orders needs IS_LIVE=true. */
  kraken(): Exchange {
    if (!this.config.KRAKEN_API_KEY || !this.config.KRAKEN_API_SECRET) {
      throw new AppError('config', 'kraken_keys_missing', 'KRAKEN_API_KEY and KRAKEN_API_SECRET are not set.', {
        hint: 'Put a Trade-only Kraken key in the environment or in .env (mode 0600).',
      });
    }
    this.#kraken ??= this.deps.kraken({ armed: this.armed });
    return this.#kraken;
  }

  hasKrakenKeys(): boolean {
    return Boolean(this.config.KRAKEN_API_KEY && this.config.KRAKEN_API_SECRET);
  }

  /** The exchange the engine trades on in a given effective mode. */
  forMode(mode: Mode): Exchange {
    return mode === 'live' ? this.kraken() : this.paper();
  }
}
