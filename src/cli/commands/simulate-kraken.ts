// `ctb simulate-kraken`: runs the Kraken simulator (src/simulator/) on 127.0.0.1 until SIGINT/SIGTERM
// and prints the lines to put in the bot's environment — the only place the secret is ever shown.
// Bad flags are named with what they expect (exit 2).
import { relative } from 'node:path';
import { Option } from 'commander';
import { formatDuration } from '../../config/duration.js';
import { AppError, isAppError } from '../../errors.js';
import { readReplayFile } from '../../market/replay-file.js';
import { SAMPLE_REPLAY_FILE } from '../../market/create-feed.js';
import * as F from '../../simulator/cli-options.js';
import { CONTROL_ROUTES } from '../../simulator/control-api.js';
import { DEFAULT_BALANCES, KrakenSimulator, type SimulatorOptions } from '../../simulator/simulator.js';
import { StateFile } from '../../simulator/state-file.js';
import type { CliIo } from '../io.js';
import type { CliRegistration } from '../program.js';
import { reportUsageError, usageProblem } from '../usage-errors.js';

interface Flags {
  port: string;
  pace: string;
  loop: boolean;
  replayFile?: string;
  price?: string;
  history: string;
  balances?: string;
  apiKey?: string;
  secret?: string;
  permissions?: string;
  fees?: string;
  slippage: string;
  fillSlices: string;
  rateLimits: string;
  tier: string;
  status: string;
  stateFile?: string;
  seed?: string;
}

const HELP = `
Kraken has no spot sandbox: this is one. It serves Kraken's REST API on 127.0.0.1 in Kraken's formats
(API-Key/API-Sign and nonces checked, balances enforced, market and limit orders matched against a
price path with fees and optional partial fills, TradesHistory/QueryOrders/QueryTrades, CancelAll,
CancelAllOrdersAfter that really fires, Kraken's REST and trading rate counters, system status) so
the bot's live code path can trade against it with no money: a live rehearsal.
It also serves Kraken's WebSocket v2 executions channel on the same port (ws://127.0.0.1:PORT/v2),
in Kraken's documented format: subscribe with a token from GetWebSocketsToken (checked: issued here,
at most 15 minutes old), a snapshot of open orders and the last 50 trades on subscribe, then an update
per order event (pending_new, new, each fill as a trade, filled / canceled / expired) and a heartbeat
every second. The bot books live fills from it (KRAKEN_WS_EXECUTIONS, on by default) and finds it
on its own: with KRAKEN_API_URL pointing here, its WebSocket URL is this host's /v2.

On start it prints the lines to put in the bot's environment:
  KRAKEN_API_URL=http://127.0.0.1:PORT  KRAKEN_API_KEY=…  KRAKEN_API_SECRET=…
  MARKET_POLL_INTERVAL=…  MARKET_FEED=kraken
With MARKET_FEED=kraken the bot's market feed reads the simulator's OHLC: it trades on the prices
the simulator fills at. MARKET_POLL_INTERVAL fits --pace (one candle's time, at least 1s: Kraken's
public allowance is about a call a second), so the bot sees candles close one by one rather than
a poll's worth at once (the bot's default, 15s, is fifteen candles at --pace 1).

Control API (JSON, same port, never reached by Kraken's /0/ paths):
${CONTROL_ROUTES.map((r) => `  ${r}`).join('\n')}

Examples:
  ctb simulate-kraken --pace 2 --balances USD=10000,BTC=0
  ctb simulate-kraken --price 64000 --fill-slices 3 --state-file data/sim.json
  curl -s -XPOST localhost:7800/_sim/faults -d '{"endpoint":"AddOrder","kind":"truncated","after":true}'
  curl -s -XPOST localhost:7800/_sim/status -d '{"status":"cancel_only"}'
  curl -s -XPOST localhost:7800/_sim/ws -d '{"drop":true,"refuseMs":5000}'
`;

/**
 * The bot's MARKET_POLL_INTERVAL for a pace: a poll per candle, so each poll finds the one candle
 * that closed since the last — but never under a second (the feed keeps within Kraken's public
 * allowance of about a call a second) nor over the bot's default 15 s. At pace 0 candles close only
 * when told: polled every second, they show soon after.
 */
export function pollIntervalForPace(pace: number): string {
  const ms = pace > 0 ? Math.min(15_000, Math.max(1_000, Math.round(1_000 / pace))) : 1_000;
  return formatDuration(ms);
}

function buildOptions(flags: Flags): { options: SimulatorOptions; describe: string[] } {
  const saved = flags.stateFile && flags.apiKey === undefined && flags.secret === undefined ? StateFile.savedKeys(flags.stateFile) : undefined;
  const keys = saved ? { ...saved, generated: true } : F.keyPair(flags.apiKey, flags.secret);
  const fixedPrices = flags.price !== undefined ? F.parseFixedPrices(flags.price) : undefined;
  const replayFile = flags.replayFile ?? SAMPLE_REPLAY_FILE;
  const replay = fixedPrices && Object.keys(fixedPrices).includes('XXBTZUSD') && flags.replayFile === undefined ? [] : readReplayFile(replayFile);
  const pace = F.parsePace(flags.pace);
  const fees = flags.fees !== undefined ? F.parseFees(flags.fees) : { maker: '0.25', taker: '0.40' };
  const slippageBps = F.parseWhole('--slippage', 0, 1000)(flags.slippage);
  const fillSlices = F.parseWhole('--fill-slices', 1, 100)(flags.fillSlices);
  const rateLimits = F.parseOnOff('--rate-limits')(flags.rateLimits);
  const tier = F.parseTier(flags.tier);
  const balances = { ...DEFAULT_BALANCES, ...(flags.balances !== undefined ? F.parseBalances(flags.balances) : {}) };
  const options: SimulatorOptions = {
    apiKey: keys.apiKey, secret: keys.secret, port: F.parsePort(flags.port), pace, loop: flags.loop, replay,
    historyCandles: F.parseWhole('--history', 1, 1440)(flags.history), balances, makerFeePct: fees.maker, takerFeePct: fees.taker,
    slippageBps, fillSlices, rateLimits, tier, systemStatus: F.parseStatus(flags.status), callLogLimit: 5_000,
    ...(fixedPrices ? { fixedPrices } : {}),
    ...(flags.permissions !== undefined ? { permissions: F.parsePermissions(flags.permissions) } : {}),
    ...(flags.stateFile ? { stateFile: flags.stateFile, keepKeysInStateFile: keys.generated } : {}),
    ...(flags.seed !== undefined ? { seed: F.parseWhole('--seed', 0, 2 ** 31)(flags.seed) } : {}),
  };
  const market = replay.length > 0
    ? `replay ${relative(process.cwd(), replayFile) || replayFile} at ${pace} candle(s)/s${pace === 0 ? ' (only on POST /_sim/advance)' : ''}, ${flags.loop ? 'looping' : 'stopping at its end'}`
    : 'fixed prices';
  const fixedText = fixedPrices ? ` · fixed: ${Object.entries(fixedPrices).map(([p, v]) => `${p}=${v}`).join(', ')}` : '';
  return {
    options,
    describe: [
      `market: ${market}${fixedText}`,
      `account: ${Object.entries(balances).map(([a, b]) => `${a} ${b}`).join(', ')} · fees maker ${fees.maker}% taker ${fees.taker}% (quote currency) · slippage ${slippageBps} bps · taker fills in ${fillSlices} slice(s)`,
      `rate limits: ${rateLimits ? `on (${tier} tier)` : 'off'} · system status: ${options.systemStatus} · state: ${flags.stateFile ? `kept in ${flags.stateFile}` : 'in memory (lost when this process stops)'}`,
    ],
  };
}

async function run(io: CliIo, flags: Flags): Promise<number> {
  let built: ReturnType<typeof buildOptions>;
  try {
    built = buildOptions(flags);
  } catch (err) {
    // A bad flag reads as every other usage error: "error: …", then where to read the usage.
    const message = isAppError(err) ? err.userMessage : (err as Error).message;
    reportUsageError(io, usageProblem(isAppError(err) ? err.code : 'bad_simulator_flag', message), false, io.usageHint);
    return 2;
  }
  const stamp = () => new Date().toISOString().slice(11, 19);
  let sim: KrakenSimulator;
  try {
    sim = await KrakenSimulator.start({ ...built.options, onEvent: (m) => io.stdout.write(`[${stamp()}] ${m}\n`) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') io.stderr.write(`error: Port ${built.options.port} is in use: stop what listens there or choose another with --port.\n`);
    else io.stderr.write(`error: ${isAppError(e) ? (e as AppError).userMessage : e.message}\n`);
    return 2;
  }
  io.stdout.write([
    `Kraken simulator listening on ${sim.url} (REST), executions channel on ${sim.wsUrl} (WebSocket v2)`,
    ...built.describe.map((l) => `  ${l}`),
    `  control API: ${sim.url}/_sim/state (routes: ctb simulate-kraken --help)`,
    '',
    "Put these lines in the bot's environment (the secret is shown only here):",
    `KRAKEN_API_URL=${sim.url}`,
    `KRAKEN_API_KEY=${built.options.apiKey}`,
    `KRAKEN_API_SECRET=${built.options.secret}`,
    `MARKET_POLL_INTERVAL=${pollIntervalForPace(built.options.pace ?? 0)}`,
    'MARKET_FEED=kraken',
    '',
  ].join('\n'));
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sim.close();
  io.stdout.write(`[${stamp()}] simulator stopped${flags.stateFile ? `; state saved in ${flags.stateFile}` : ''}\n`);
  return 0;
}

export const simulateKrakenCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('simulate-kraken')
      .description("run a local Kraken (REST and WebSocket executions) on 127.0.0.1 to rehearse live trading with no money")
      .option('--port <n>', 'port on 127.0.0.1 (0: any free port, printed)', '7800')
      .option('--pace <candles/s>', 'replay candles closed per second (0: only when POST /_sim/advance says)', '1')
      .option('--no-loop', 'stop the market at the end of the replay instead of looping')
      .option('--replay-file <file>', 'CSV of 1-minute candles (time,symbol,open,high,low,close,volume); default the bundled sample')
      .option('--price <price>', 'fixed price instead of the replay: 64000 (BTC/USD) or BTC/USD=64000,ETH/USD=3000')
      .option('--history <candles>', 'closed candles served at start, for the feed to warm up', '720')
      .option('--balances <list>', 'starting balances, e.g. USD=10000,BTC=0 (default USD=10000)')
      .option('--api-key <key>', 'the API key the bot must use (with --secret; default: a generated pair)')
      .option('--secret <base64>', 'the base64 secret that signs requests (with --api-key)')
      .option('--permissions <list>', 'key rights GetApiKeyInfo reports (default a Trade key: query-funds,query-open-trades,query-closed-trades,modify-trades,close-trades)')
      .option('--fees <list>', "percent fees, charged in the quote currency (default maker=0.25,taker=0.40: Kraken's lowest 30-day-volume tier; paper trading defaults to 0.16/0.26, PAPER_*_FEE_PCT)")
      .option('--slippage <bps>', 'market orders fill this many basis points worse than the last price', '5')
      .option('--fill-slices <n>', 'a taker order fills in n slices: one at once, the rest on the next candles (partial fills)', '1')
      .addOption(new Option('--rate-limits <on|off>', "Kraken's REST call counter and per-pair trading counter").default('on'))
      .option('--tier <tier>', 'verification tier of the rate limits: starter, intermediate, pro', 'intermediate')
      .option('--status <status>', 'system status at start: online, maintenance, cancel_only, post_only', 'online')
      .option('--state-file <file>', "keep the account and market in this file across the simulator's restarts")
      .option('--seed <n>', 'seed ids and probability faults, so a run repeats')
      .addHelpText('after', HELP)
      .action(async (flags: Flags) => {
        setExit(await run(io, flags));
      });
  },
};
