// `ctb exit <trade-id|all> [--yes] [--reason …] [--wait <seconds>] [--json]`: without --yes it shows
// what would be sold and sends nothing; with --yes the engine's process exits the trade(s).
import { exitCommand, exitPrinted, type ExitResult } from '../../../commands/exit.js';
import { price, trimmed } from '../../domain/amount-text.js';
import { describeExit } from '../../domain/exit-outcome.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

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
      .option('--wait <seconds>', "how long to wait for the engine's answer (0-300)", '30')
      .option('--json', 'machine-readable output', false)
      .action(async (target: string, opts: { yes: boolean; reason?: string; wait: string; json: boolean }) =>
        setExit(await runCliCommand(io, exitCommand, {
          target, confirmed: opts.yes, waitSeconds: opts.wait, ...(opts.reason === undefined ? {} : { reason: opts.reason }),
        }, { json: opts.json, render: renderExit, show: (result, ctx, print) => exitPrinted(ctx, result, print) })));
  },
};
