// The engine's mode as an operator needs it (src/domain/engine-mode.ts), and the views that say it:
// a stale lease whose holder was armed, with bot_state live and not halted, is "unknown" — it may
// resume LIVE trading if it wakes — never "paper"; any other stale holder could not trade live.
import { describe, expect, it } from 'vitest';
import type { ModeStatusResult } from '../../commands/mode.js';
import { renderStatus } from '../../src/cli/commands/mode.js';
import { engineMode, mayTradeLive } from '../../src/domain/engine-mode.js';
import { summaryLineOf } from '../../src/services/audit/run-audit.js';
import { renderAppHome } from '../../src/slack/views/app-home.js';
import { badgeBlock, withBadge } from '../../src/slack/views/badge.js';
import { textMessage } from '../../src/slack/views/message.js';
import { dashboardFixture, engineFixture } from '../support/factories/dashboard.js';

const stale = (armed: boolean) => engineFixture({
  state: 'stale', host: 'worker-1', pid: 4242, armed, heartbeatAt: '2026-01-05T10:59:30.000Z', heartbeatAgeMs: 3_600_000, staleSince: '2026-01-05T10:59:45.000Z',
});
const none = engineFixture({ state: 'none', host: null, pid: null, armed: false, heartbeatAt: null, heartbeatAgeMs: null });
const live = { mode: 'live' as const, halted: false };

describe('engineMode', () => {
  it('is unknown for a stale lease whose holder was armed, with the database live and not halted', () => {
    expect(engineMode(live, stale(true))).toBe('unknown');
    expect(mayTradeLive(engineMode(live, stale(true)))).toBe(true);
  });

  it('is paper for a stale holder that could not trade live: not armed, the database paper, or halted', () => {
    expect(engineMode(live, stale(false))).toBe('paper');
    expect(engineMode({ mode: 'paper', halted: false }, stale(true))).toBe('paper');
    expect(engineMode({ mode: 'live', halted: true }, stale(true))).toBe('paper');
    expect(mayTradeLive('paper')).toBe(false);
  });

  it('is live only for a running armed engine, the database live and not halted; paper when none runs', () => {
    expect(engineMode(live, engineFixture({ armed: true }))).toBe('live');
    expect(engineMode(live, engineFixture({ armed: false }))).toBe('paper');
    expect(engineMode({ mode: 'live', halted: true }, engineFixture({ armed: true }))).toBe('paper');
    expect(engineMode(live, none)).toBe('paper');
    expect(mayTradeLive('live')).toBe(true);
  });
});

/** `ctb mode status`'s result for bot_state live and `engine`, with the mode engineMode gives. */
function cliStatus(engine = stale(true)): ModeStatusResult {
  const d = dashboardFixture().mode;
  return {
    ok: true, mode: engineMode(live, engine), storedMode: 'live', stateVersion: 1, armed: false, engine, shell: d.shell, reconciliation: d.reconciliation,
    halted: false, haltedReason: null, openRequest: null, lastChange: null, liveWithdrawn: null, liveLeftOpen: null, approvers: [], approvalEmoji: 'white_check_mark', tradingState: d.tradingState, latestAudit: null,
  };
}

describe('the views of an unknown mode', () => {
  it('ctb mode status says unknown, whose lease stopped when, that it may resume LIVE and what cancels — never PAPER', () => {
    const text = renderStatus(cliStatus());
    expect(text.split('\n')[0]).toBe('mode: UNKNOWN — the engine (worker-1:4242) stopped renewing its lease at 2026-01-05T10:59:30.000Z (stale since 2026-01-05T10:59:45.000Z); '
      + 'it was armed and the database says live: it may resume LIVE trading if it wakes; `ctb kill` cancels from any process');
    expect(text).toContain("armed (IS_LIVE): yes, in the stale engine's process");
    expect(text).not.toContain('PAPER');
    // A stale unarmed holder trades paper if it wakes: said as before.
    expect(renderStatus(cliStatus(stale(false))).split('\n')[0]).toBe("mode: PAPER (database says live; trading paper because the engine's lease is stale (it died or hung))");
  });

  it('the Slack badge says MODE UNKNOWN and that it may resume LIVE, not PAPER', () => {
    expect(withBadge(textMessage('x'), { mode: 'unknown', halted: false }).text).toBe('[MODE UNKNOWN · MAY RESUME LIVE] x');
    const block = JSON.stringify(badgeBlock({ mode: 'unknown', halted: false }));
    expect(block).toContain(':warning: *MODE UNKNOWN* — the engine stopped renewing its lease while armed and the database says live: it may resume LIVE trading if it wakes');
    expect(block).not.toContain('PAPER');
  });

  it('App Home says the mode unknown, naming the stale engine, not PAPER', () => {
    const d = dashboardFixture();
    const home = JSON.stringify(renderAppHome({ ...d, mode: { ...d.mode, mode: 'unknown', requestedMode: 'live', engine: stale(true) } }).blocks);
    expect(home).toContain(':warning: *MODE UNKNOWN* — the engine (worker-1:4242) stopped renewing its lease at 2026-01-05T10:59:30.000Z');
    expect(home).toContain('*UNKNOWN* — the stale engine may resume LIVE trading if it wakes');
    expect(home).not.toContain('PAPER');
  });

  it("the audit's summary line says mode unknown", () => {
    expect(summaryLineOf({ pass: 1, warn: 1, fail: 0, total: 2 }, { dryRun: true, mode: 'unknown', partial: false })).toBe('AUDIT PASSED — 1 pass, 1 warn, 0 fail (dry run, mode unknown)');
  });
});
