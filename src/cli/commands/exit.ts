// `ctb exit <trade-id|all> [--yes] [--reason …] [--wait <duration>] [--json]`: without --yes it shows
// what would be sold and sends nothing; with --yes the engine's process exits the trade(s).
import { exitCommand, exitPrinted, type ExitResult } from '../../../commands/exit.js';
import { parseDuration } from '../../config/duration.js';
import { AppError } from '../../errors.js';
import { price, trimmed } from '../../domain/amount-text.js';
import { describeExit } from '../../domain/exit-outcome.js';
import type { CliRegistration } from '../program.js';
import { printError, runCliCommand } from '../with-context.js';

/** The longest --wait, in seconds (the command's own bound). */
const MAX_WAIT_SECONDS = 300;

/**
 * --wait as typed, in whole seconds: a number of seconds (30, as before) or a duration as every other
 * option takes one (90s, 2m, 1m30s), from 0 to 5m.
 */
export function waitSecondsOf(text: string): number {
  const t = text.trim().toLowerCase();
  const ms = /^\d+$/.test(t) ? Number(t) * 1000 : /^0+(?:ms|s|m|h|d)$/.test(t) ? 0 : parseDuration(t);
  if (ms === undefined || ms % 1000 !== 0 || ms > MAX_WAIT_SECONDS * 1000) {
    throw new AppError('usage', 'bad_wait',
      `--wait: expected how long to wait for the engine's answer, 0 to 5m in whole seconds: a duration such as 90s or 2m, or seconds such as 30; got "${text}".`);
  }
  return ms / 1000;
}

export function renderExit(r: ExitResult): string {
  const list = r.trades.map((t) => `  #${t.id} ${t.book} ${t.symbol} ${trimmed(t.quantity)} (entry ${price(t.entryPrice)}, ${t.strategy})`).join('\n');
  const what = r.target === 'all' ? 'every open trade' : `trade #${r.target}`;
  // The other book's open positions left out, and how they are exited; why no engine takes it now.
  const leftOut = r.paperSetAside ? `${r.paperSetAside} Exit them after going back to paper (ctb mode paper).` : r.liveLeftOut;
  const engine = r.engineNote ? `${r.engineNote}\n` : '';
  switch (r.status) {
    case 'nothing_open':
      return `${engine}${leftOut ? `No ${r.mode} position open: nothing to exit ${r.mode === 'live' ? 'live' : 'in paper'}. ${leftOut}` : 'No open trades: nothing to exit.'}`;
    case 'needs_confirmation':
      return `Would sell at market:\n${list}\n${leftOut ? `Left out: ${leftOut}\n` : ''}${engine}Nothing was sent. Re-run with --yes to exit ${what}.`;
    case 'pending': {
      const q = r.request!;
      const queued = q.queued === null ? '' : ` Still queued: ${q.queued}.`;
      return `Exit of ${what} requested (request #${q.requestId}${q.joined ? ', already pending' : ''}): PENDING — `
        + `no engine has answered yet.${queued} It runs as soon as the engine process takes it; `
        + `${q.toldLater ? 'the alert channel is told how it ends; ' : ''}\`ctb trades\` shows when the trade closes.`
        + (q.skipped ? `\nLeft out: ${q.skipped}` : '')
        + (r.engineNote ? `\n${r.engineNote}` : '');
    }
    default: {
      const q = r.request!;
      const lines = q.results.length > 0 ? q.results.map((x) => `  ${describeExit(x)}`) : [`  ${q.summary ?? ''}`];
      return `Exit of ${what} (request #${q.requestId}): ${q.status.toUpperCase()}\n${lines.join('\n')}${q.skipped ? `\nLeft out: ${q.skipped}` : ''}`;
    }
  }
}

export const exitCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('exit')
      .description('close one open trade (or all) at market through the engine; shows what it would sell unless --yes')
      .argument('<trade-id|all>', 'the trade to close (see ctb trades), or all')
      .option('--yes', 'confirm: send the exit', false)
      .option('--reason <text>', 'why, for the record')
      .option('--wait <duration>', "how long to wait for the engine's answer: 90s, 2m or seconds (30); at most 5m", '30s')
      .option('--json', 'machine-readable output', false)
      .action(async (target: string, opts: { yes: boolean; reason?: string; wait: string; json: boolean }) => {
        let waitSeconds: number;
        try {
          waitSeconds = waitSecondsOf(opts.wait);
        } catch (err) {
          return setExit(printError(io, err, undefined, opts.json));
        }
        setExit(await runCliCommand(io, exitCommand, {
          target, confirmed: opts.yes, waitSeconds, ...(opts.reason === undefined ? {} : { reason: opts.reason }),
        }, { json: opts.json, render: renderExit, show: (result, ctx, print) => exitPrinted(ctx, result, print) }));
      });
  },
};
