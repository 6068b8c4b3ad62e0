// `ctb pause [--reason …]` and `ctb unpause [--force --reason …]`: the `reducing` trading state from
// the terminal (no new entries; exits and stop-losses continue).
import { pauseCommand } from '../../../commands/pause.js';
import { unpauseCommand } from '../../../commands/unpause.js';
import { rearmText } from '../../domain/risk-rearm.js';
import { haltLiftText, TRADING_STATE_MEANING, tradingStateMeaning } from '../../domain/trading-state.js';
import type { HaltFacts, OperatorPauseResult, UnpauseResult } from '../../services/entries-pause.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

export function renderPause(r: OperatorPauseResult): string {
  if (r.halt) return renderPauseWhileHalted(r, r.halt);
  const head = `PAUSED new entries — trading state ${r.state.toUpperCase()}${r.reason ? `: ${r.reason}` : ''}`;
  return `${head}\nby ${r.pausedBy} at ${r.pausedAt.toISOString()}\nExits and stop-losses continue. \`ctb unpause\` resumes entries.`;
}

/** "HALTED — no orders at all (kill switch), halted by … at …: reason": the halt, said first wherever it comes first. */
function haltHead(halt: HaltFacts): string {
  const who = [halt.by ? `by ${halt.by}` : '', halt.at ? `at ${halt.at.toISOString()}` : ''].filter(Boolean).join(' ');
  return `HALTED — ${tradingStateMeaning({ state: 'halted', by: halt.by })}${who ? `, halted ${who}` : ''}${halt.reason ? `: ${halt.reason}` : ''}`;
}

/** The halt comes first (nothing trades, exits included): said first, with what lifts it; the pause holds after it. */
function renderPauseWhileHalted(r: OperatorPauseResult, halt: HaltFacts): string {
  return [
    haltHead(halt),
    `New entries paused too, by ${r.pausedBy} at ${r.pausedAt.toISOString()}${r.reason ? `: ${r.reason}` : ''}. The halt comes first: nothing trades, exits and stop-losses included.`,
    `${haltLiftText(halt.by, 'cli')} Then the bot is reducing (${TRADING_STATE_MEANING.reducing}) until \`ctb unpause\`.`,
  ].join('\n');
}

export function renderUnpause(r: UnpauseResult): string {
  const was = `${r.was.by ?? 'unknown'}${r.was.at ? ` at ${r.was.at.toISOString()}` : ''}${r.was.reason ? `: ${r.was.reason}` : ''}`;
  // Halted, the unpause makes nothing trade: the halt is said first, with what lifts it (exit 1).
  const lines = r.halt
    ? [haltHead(r.halt), `New entries unpaused (they were paused by ${was}), but the halt comes first: nothing trades, exits and stop-losses included.`]
    : [`RESUMED new entries — trading state ${r.state.toUpperCase()}`, `was paused by ${was}`];
  if (r.breach) {
    lines.push(r.forced
      ? `forced past the ${r.breach.kind} breach (${r.breach.now}): ${r.forceReason}`
      : `the ${r.breach.kind} breach has cleared: ${r.breach.now}`);
  }
  lines.push(r.rearm ? `Re-armed: ${rearmText(r.rearm)}.` : 'The risk guard still measures from the same equity peak and day\'s opening equity.');
  if (r.halt) lines.push(`${haltLiftText(r.halt.by, 'cli')} Then the bot is active (${TRADING_STATE_MEANING.active}).`);
  return lines.join('\n');
}

export const pauseCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('pause')
      .description('pause new entries now (trading state reducing): exits and stop-losses continue')
      .option('--reason <text>', 'why, for the record')
      .option('--json', 'machine-readable output', false)
      .action(async (opts: { reason?: string; json: boolean }) =>
        setExit(await runCliCommand(io, pauseCommand, opts.reason === undefined ? {} : { reason: opts.reason }, { json: opts.json, render: renderPause })));
    program
      .command('unpause')
      .description('resume new entries; after a risk-guard pause, once the breach cleared (or --force with --reason)')
      .option('--force', 'resume although the breach that paused entries has not cleared', false)
      .option('--reason <text>', 'why (required with --force)')
      .option('--json', 'machine-readable output', false)
      .action(async (opts: { force: boolean; reason?: string; json: boolean }) =>
        setExit(await runCliCommand(io, unpauseCommand, { force: opts.force, ...(opts.reason === undefined ? {} : { reason: opts.reason }) }, { json: opts.json, render: renderUnpause })));
  },
};
