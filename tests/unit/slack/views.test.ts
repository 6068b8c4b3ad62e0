// Block Kit views are pure functions of result objects: tested on their JSON.
import { describe, expect, it } from 'vitest';
import type { GoLiveStatusResult } from '../../../commands/golive-status.js';
import type { ModeStatusResult } from '../../../commands/mode-status.js';
import { badgeBlock, withBadge } from '../../../src/slack/views/badge.js';
import { renderError, renderRefused } from '../../../src/slack/views/error.js';
import { renderCommandUsage, renderHelp } from '../../../src/slack/views/help.js';
import { textMessage } from '../../../src/slack/views/message.js';
import type { EngineHolderView } from '../../../src/domain/engine-holder.js';
import { renderGoLiveStatus, renderModeStatus } from '../../../src/slack/views/mode-status.js';

const runningEngine: EngineHolderView = {
  state: 'running', holderId: 'bot-1:4242:ab12cd34', host: 'bot-1', pid: 4242, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: true,
  acquiredAt: '2026-01-05T09:00:00.000Z', heartbeatAt: '2026-01-05T11:59:57.000Z', heartbeatAgeMs: 3000, staleSince: null, takenOverFrom: null, waiting: null, waitingKind: null, waitingStateVersion: null,
  renewalOverdue: false, renewEveryMs: 5000, staleAt: '2026-01-05T12:00:12.000Z',
};

const status = (over: Partial<GoLiveStatusResult & ModeStatusResult> = {}): GoLiveStatusResult & ModeStatusResult => ({
  ok: true, mode: 'paper', requestedMode: 'paper', stateVersion: 7, armed: false, halted: false, haltedReason: null, haltedAt: null,
  haltedBy: null, entriesPaused: false, entriesPausedReason: null, latestAudit: null, openRequest: null, liveWithdrawn: null, liveLeftOpen: null,
  tradingState: { state: 'active', reason: null, by: null, at: null, entriesPaused: false },
  engine: runningEngine, shell: { armed: false, hasKrakenKeys: false }, reconciliation: { blocked: false, reconciledThrough: null, at: null, cause: null, pending: false, takenOverFrom: null, differences: [] }, ...over,
});

describe('badge', () => {
  it('puts a PAPER badge first and prefixes the fallback text', () => {
    const m = withBadge(textMessage('hello'), { mode: 'paper', halted: false });
    expect(m.text).toBe('[PAPER] hello');
    expect(m.blocks[0]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: ':page_facing_up: *PAPER* — simulated fills' }] });
    expect(m.blocks).toHaveLength(2);
  });

  it('marks LIVE and HALTED unmistakably', () => {
    expect(withBadge(textMessage('x'), { mode: 'live', halted: false }).text).toBe('[LIVE] x');
    expect(JSON.stringify(badgeBlock({ mode: 'paper', halted: true }))).toContain('HALTED');
    expect(withBadge(textMessage('x'), { mode: null, halted: false }).text).toBe('[MODE UNKNOWN] x');
  });

  it('marks a reducing bot (no new entries) in the badge, and lets HALTED win over it', () => {
    expect(withBadge(textMessage('x'), { mode: 'live', halted: false, tradingState: 'reducing' }).text).toBe('[LIVE · REDUCING] x');
    expect(JSON.stringify(badgeBlock({ mode: 'paper', halted: false, tradingState: 'reducing' }))).toContain('*REDUCING* — no new entries');
    expect(withBadge(textMessage('x'), { mode: 'paper', halted: true, tradingState: 'halted' }).text).toBe('[PAPER · HALTED] x');
    expect(withBadge(textMessage('x'), { mode: 'paper', halted: false, tradingState: 'active' }).text).toBe('[PAPER] x');
  });
});

describe('mode and go-live status views', () => {
  it('says paper is paper when nothing asks for live', () => {
    const m = renderModeStatus(status());
    expect(m.text).toBe('Mode: paper, requested paper, not armed');
    expect(JSON.stringify(m.blocks)).toContain('simulated fills on real prices');
  });

  it('says why the mode is paper when an engine took the lease unarmed and withdrew the live approval', () => {
    const withdrawn = { requestId: 12, at: '2026-01-05T11:00:00.000Z', by: 'system:engine-lease', reason: 'engine bot-1:4242:ab12cd34 took the lease without IS_LIVE at 2026-01-05T11:00:00.000Z; going live again needs /mode live and two approvals' };
    const line = ':page_facing_up: *PAPER* — live approval withdrawn (#12): engine bot-1:4242:ab12cd34 took the lease without IS_LIVE at 2026-01-05T11:00:00.000Z; going live again needs /mode live and two approvals';
    expect(JSON.stringify(renderModeStatus(status({ liveWithdrawn: withdrawn })).blocks[0])).toContain(JSON.stringify(line).slice(1, -1));
    expect(JSON.stringify(renderGoLiveStatus(status({ liveWithdrawn: withdrawn })).blocks)).toContain(JSON.stringify(line).slice(1, -1));
    // The notification says it too, with the live positions it left.
    expect(renderModeStatus(status({ liveWithdrawn: withdrawn, liveLeftOpen: { count: 2, positions: ['#3 BTC/USD 0.5', '#4 ETH/USD 2'] } })).text)
      .toBe('Mode: paper, requested paper, not armed; live approval withdrawn (#12): an engine took the lease without IS_LIVE; 2 open live positions left on Kraken, unmanaged');
  });

  it('shows the live request waiting for approvals: who asked, how many approvals stand, when it expires', () => {
    const m = renderModeStatus(status({
      openRequest: {
        id: 7, toMode: 'live', requester: 'UOPERATOR1', createdAt: new Date('2026-01-05T12:00:00Z'), expiresAt: new Date('2026-01-05T13:00:00Z'),
        approvals: 1, approvalsNeeded: 2, message: { channel: 'C0OPS', ts: '1767614400.000100' },
      },
    }));
    expect(m.text).toBe('Mode: paper, requested paper, not armed, open request #7 (1/2 approvals)');
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('Open request #7* to go live by <@UOPERATOR1>');
    expect(json).toContain('1 of 2 approvals');
    expect(json).toContain('<#C0OPS>');
  });

  it('explains why an approved live mode still trades paper when the process is not armed', () => {
    const m = renderModeStatus(status({ requestedMode: 'live' }));
    expect(JSON.stringify(m.blocks)).toContain('not armed (IS_LIVE is false)');
  });

  it('shows who runs the engine — host, pid, role, feed, armed, keys, last heartbeat and its age — beside what this process would do', () => {
    const m = renderModeStatus(status({ mode: 'live', requestedMode: 'live', armed: true, engine: { ...runningEngine, armed: true }, shell: { armed: false, hasKrakenKeys: false } }));
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('`bot-1:4242` (worker, feed kraken) — *armed*, Kraken keys, heartbeat <!date^1767614397^{date_short_pretty} {time}|2026-01-05T11:59:57.000Z> (3s ago)');
    expect(json).toContain('*This process*\\nIS_LIVE false, no Kraken keys');
    expect(m.text).toBe('Mode: live, requested live, armed');
  });

  it("says the running engine waits, and why, as `ctb mode status` and the banner do — then that it trades now", () => {
    const engineField = (over: Partial<GoLiveStatusResult & ModeStatusResult>) => {
      const field = (m: { blocks: unknown[] }) => JSON.stringify(m.blocks).match(/\*Engine\*\\n([^"]*)/)?.[1];
      const mode = field(renderModeStatus(status(over)));
      expect(field(renderGoLiveStatus(status(over)))).toBe(mode);
      return mode;
    };
    // The step the holder wrote in its lease row, escaped.
    expect(engineField({ engine: { ...runningEngine, waiting: 'warming up (the <account> & prices)' } }))
      .toMatch(/ \(3s ago\); engine waiting: warming up \(the &lt;account&gt; &amp; prices\)$/);
    // No step left: a halt is why it places no order, then live blocked by reconciliation, else it trades.
    expect(engineField({ halted: true, haltedReason: 'kill: drill' })).toMatch(/; engine waiting: halted \(kill: drill\): no orders until `ctb resume`$/);
    expect(engineField({ mode: 'live', requestedMode: 'live', armed: true, engine: { ...runningEngine, armed: true }, reconciliation: { ...status().reconciliation, blocked: true } }))
      .toMatch(/; engine waiting: live trading waits for reconciliation with Kraken \(blocked\)$/);
    expect(engineField({})).toMatch(/ \(3s ago\); engine trading now$/);
    // Live past its steps: the row names the gate's reason while it holds orders (the engine writes it),
    // and nothing once it opens.
    const liveEngine = { ...runningEngine, armed: true };
    const unreachable = 'live trading waits for reconciliation with Kraken (unreachable)';
    const gated = { ...liveEngine, waiting: unreachable, waitingKind: 'gate' as const, waitingStateVersion: 7 };
    const held = engineField({ mode: 'live', requestedMode: 'live', armed: true, engine: gated });
    expect(held).toMatch(/; engine waiting: live trading waits for reconciliation with Kraken \(unreachable\)$/);
    expect(engineField({ mode: 'live', requestedMode: 'live', armed: true, engine: liveEngine })).toMatch(/ \(3s ago\); engine trading now$/);
    // A gate's reason is never said past the state it answered on: a halt since says the halt, a switch
    // to paper (or any change of bot_state) since that the gate's answer to it is not recorded yet.
    expect(engineField({ mode: 'paper', requestedMode: 'live', armed: true, halted: true, haltedReason: 'kill: drill', stateVersion: 8, engine: gated }))
      .toMatch(/; engine waiting: halted \(kill: drill\): no orders until `ctb resume`$/);
    expect(engineField({ mode: 'live', requestedMode: 'live', armed: true, halted: true, haltedReason: 'kill: drill', engine: gated }))
      .toMatch(/; engine waiting: halted \(kill: drill\): no orders until `ctb resume`$/);
    expect(engineField({ mode: 'paper', requestedMode: 'paper', armed: true, stateVersion: 8, engine: gated }))
      .toMatch(/; engine waiting: its gate's answer since bot_state last changed is not recorded yet$/);
    // A step is a step whatever bot_state says since: the engine has not run its first pass.
    expect(engineField({ halted: true, haltedReason: 'kill: drill', stateVersion: 8, engine: { ...runningEngine, waiting: 'warming up', waitingKind: 'step' } }))
      .toMatch(/; engine waiting: warming up$/);
    // A stale holder's engine neither waits nor trades: nothing said of its progress.
    expect(engineField({ engine: { ...runningEngine, state: 'stale', heartbeatAgeMs: 60_000, staleSince: '2026-01-05T12:00:12.000Z', waiting: null } })).not.toMatch(/engine (waiting|trading)/);
    // Renewal overdue (killed moments ago, not stale yet): when it last renewed, that it may have stopped, when a standby may take over.
    const overdue = engineField({ engine: { ...runningEngine, heartbeatAgeMs: 9_000, renewalOverdue: true } });
    expect(overdue).toContain(':warning:');
    expect(overdue).toMatch(/last renewed its lease <!date\^\d+\^[^>]+> \(9s ago\), renewed every 5s while it runs: \*it may have stopped\*.*a standby may take the lease over from <!date\^1767614412\^/);
    expect(overdue).not.toMatch(/engine (waiting|trading)/);
    // Its process gone from the host this was read on: said gone, and a standby there takes over at once — no later time promised.
    const gone = engineField({ engine: { ...runningEngine, heartbeatAgeMs: 2_000, renewalOverdue: true, processGone: true } });
    expect(gone).toMatch(/last renewed its lease <!date\^\d+\^[^>]+> \(2s ago\): \*its process is gone\* from that host; a standby there takes the lease over at once$/);
    expect(gone).not.toMatch(/may have stopped|from <!date/);
    // A row without its holder's TTL: the interval said is the reader's.
    expect(engineField({ engine: { ...runningEngine, heartbeatAgeMs: 11_000, renewalOverdue: true, ttlOfReader: true } }))
      .toContain("renewed every 5s while it runs (by the reading process's ENGINE_LEASE_TTL: the lease row does not carry its holder's): *it may have stopped*");
  });

  it('says when no engine runs, and when the running one went stale (since when)', () => {
    const none = renderModeStatus(status({ requestedMode: 'live', engine: { ...runningEngine, state: 'none', host: null, pid: null, heartbeatAt: null, heartbeatAgeMs: null } }));
    expect(none.text).toBe('Mode: paper, requested live, no engine running');
    expect(JSON.stringify(none.blocks)).toContain('live was approved, but no engine is running');
    const stale = renderGoLiveStatus(status({ engine: { ...runningEngine, state: 'stale', heartbeatAgeMs: 60_000, staleSince: '2026-01-05T12:00:12.000Z' } }));
    expect(stale.text).toContain('engine stale');
    expect(JSON.stringify(stale.blocks)).toContain(':warning: *stale* since <!date^1767614412^{date_short_pretty} {time}|2026-01-05T12:00:12.000Z>');
  });

  it('/golive status says /mode live is refused while the running engine is not armed, naming it and how to arm it', () => {
    const json = JSON.stringify(renderGoLiveStatus(status()).blocks);
    expect(json).toContain(':no_entry: *`/mode live` is refused now* — the engine (bot-1 pid 4242, worker) is not armed (IS_LIVE is not true in its process)');
    expect(json).toContain('Restart the worker on bot-1 (pid 4242) with IS_LIVE=true');
    const armed = JSON.stringify(renderGoLiveStatus(status({ armed: true, engine: { ...runningEngine, armed: true } })).blocks);
    expect(armed).not.toContain('is refused now');
  });

  it('shows who halted the engine, why and when, escaping their text', () => {
    const at = new Date('2026-01-05T12:00:00Z');
    const m = renderModeStatus(status({ halted: true, haltedReason: 'spread <blew> out & more', haltedBy: 'UOPERATOR1', haltedAt: at }));
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('spread &lt;blew&gt; out &amp; more');
    expect(json).toContain('<@UOPERATOR1>');
    expect(json).toContain(`<!date^${at.getTime() / 1000}^{date_short_pretty} {time}|2026-01-05T12:00:00.000Z>`);
    expect(m.text).toContain('(halted)');
  });

  it('shows the latest audit verdict, or that none has run', () => {
    expect(JSON.stringify(renderGoLiveStatus(status()).blocks)).toContain('No go-live audit has run yet');
    const m = renderGoLiveStatus(status({
      latestAudit: { id: 7, thresholdRefusal: null, at: new Date('2026-01-05T12:00:00Z'), passed: true, dryRun: true, mode: 'paper', summary: '14/14 checks passed', actor: 'cli:ops' },
    }));
    const json = JSON.stringify(m.blocks);
    expect(json).toContain(':white_check_mark: *passed* (dry run)');
    expect(json).toContain('`cli:ops`');
    expect(m.text).toContain('latest audit passed at 2026-01-05T12:00:00.000Z');
  });
});

describe('help, usage, refusals and errors', () => {
  const commands = [
    { command: '/kill', summary: 'Emergency stop', subcommands: [{ usage: '/kill [reason]', summary: 'Stop', role: 'operator' as const }] },
    { command: '/mode', summary: 'Mode', subcommands: [{ usage: '/mode status', summary: 'Show', role: 'reader' as const }] },
  ];

  it('lists every command with its role', () => {
    const m = renderHelp(commands);
    expect(m.text).toBe('Commands: /kill, /mode');
    expect(m.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '*/kill* — Emergency stop\n• `/kill [reason]` — Stop _(operators)_' } });
  });

  it('names the problem before the usage', () => {
    const m = renderCommandUsage(commands[1]!, "I don't know `/mode turbo`.");
    expect(m.text).toBe("I don't know `/mode turbo`. Usage: /mode status");
  });

  it('tells a refused user which role is needed and that nothing was done', () => {
    const m = renderRefused({ command: '/kill [reason]', role: 'operator', hint: 'Operators are listed in SLACK_OPERATORS.' });
    expect(m.text).toBe(':no_entry: You are not allowed to run `/kill [reason]`: it needs the operator role. Nothing was done.');
  });

  it('carries the reference id in the text and the blocks', () => {
    const m = renderError({ message: 'Exchange unavailable.', reference: 'E-ABC234' });
    expect(m.text).toBe('Exchange unavailable. (reference E-ABC234)');
    expect(JSON.stringify(m.blocks)).toContain('Reference `E-ABC234`');
  });
});
