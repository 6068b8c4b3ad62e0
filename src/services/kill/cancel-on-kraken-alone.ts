// Owns a kill's cancel on Kraken when there is no database: none to record a halt in, none to hand an
// unconfirmed cancel on through (`ctb kill` outside the bot's directory, no embedded database at
// DATA_DIR). Nobody takes over what it leaves unconfirmed, so it tries as hard as a kill does: the
// kill's own rounds (cancel-everywhere.ts) on Kraken alone — at least KILL_CONFIRM_ATTEMPTS, more until
// KILL_CONFIRM_WAIT, no call past it plus one call's deadline. One dropped connection (a kept-alive
// socket the server closed, "other side closed") costs a round, not the kill. Its pace after Kraken
// refuses a call for the rate limit is this process's own view of the key's counter (kraken-room.ts):
// without a database there is no shared record of what other processes were refused.
import type { Config } from '../../config/env.js';
import type { Exchange } from '../../exchange/types.js';
import type { Logger } from '../../logger.js';
import { clearVenue, type VenueCancelReport } from './cancel-everywhere.js';
import { KrakenRoom } from './kraken-room.js';

export interface AloneOptions {
  /** A line for the operator who waits: a call that missed its deadline, no time left for another try. */
  progress?: (line: string) => void;
  /** The clock the rounds' deadlines are read on (default performance.now). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Cancel-all and confirm on Kraken in the kill's rounds: what Kraken cancelled, and whether zero open orders were confirmed. */
export function cancelOnKrakenAlone(
  kraken: Exchange,
  config: Pick<Config, 'KILL_CONFIRM_ATTEMPTS' | 'KILL_CONFIRM_WAIT' | 'KILL_CALL_TIMEOUT' | 'KRAKEN_RATE_TIER' | 'KRAKEN_API_URL'>,
  logger: Logger,
  opts: AloneOptions = {},
): Promise<VenueCancelReport> {
  const now = opts.now ?? (() => performance.now());
  const confirmUntil = now() + config.KILL_CONFIRM_WAIT;
  return clearVenue('kraken', () => kraken, {
    logger, attempts: config.KILL_CONFIRM_ATTEMPTS, confirmUntil, answerBy: confirmUntil + config.KILL_CALL_TIMEOUT,
    callTimeoutMs: config.KILL_CALL_TIMEOUT, now, krakenRoom: new KrakenRoom(config.KRAKEN_RATE_TIER, now),
    krakenUrl: config.KRAKEN_API_URL ?? 'https://api.kraken.com',
    ...(opts.progress ? { progress: opts.progress } : {}), ...(opts.sleep ? { sleep: opts.sleep } : {}),
  });
}
