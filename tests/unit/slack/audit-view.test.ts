// The /golive audit verdict is a pure function of the AuditReport JSON: tested on that JSON.
import { describe, expect, it } from 'vitest';
import type { AuditReport, CheckResult } from '../../../src/services/audit/types.js';
import { parseGoLiveAuditText } from '../../../src/slack/listeners/golive-audit.js';
import { renderAuditRunning, renderAuditVerdict } from '../../../src/slack/views/audit.js';

const result = (id: string, status: CheckResult['status'], over: Partial<CheckResult> = {}): CheckResult => ({
  id, title: `Title of ${id}`, section: 1, sectionTitle: 'Credentials & Secrets', status,
  value: `measured ${id}`, fix: status === 'pass' ? null : `do the thing for ${id}`, durationMs: 5, ...over,
});

const report = (results: CheckResult[], over: Partial<AuditReport> = {}): AuditReport => {
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  const summary = { pass: count('pass'), warn: count('warn'), fail: count('fail'), total: results.length };
  return {
    kind: 'audit', schemaVersion: 3, ok: summary.fail === 0, runId: 42, at: '2026-11-20T10:00:00.000Z', actor: 'UOPERATOR1',
    mode: 'paper', armed: false, dryRun: false, only: null, summary,
    thresholds: { used: { minPaperTrades: 50, minRoiPct: '0', alertWindowMs: 604_800_000 }, described: '≥ 50 paper trades, paper ROI > 0%, no critical alert in 7d', source: 'engine', recordedBy: 'bot-host:4242 (all)', recordedAt: '2026-11-20T09:00:00.000Z', envIgnored: [], envStricter: [] },
    summaryLine: `AUDIT ${summary.fail > 0 ? 'FAILED' : 'PASSED'} — ${summary.pass} pass, ${summary.warn} warn, ${summary.fail} fail (full run, paper mode)`,
    results, ...over,
  };
};

type Block = { type: string; text?: { text: string }; elements?: Array<{ text: string }> };
const texts = (blocks: unknown[]) => (blocks as Block[]).map((b) => b.text?.text ?? b.elements?.map((e) => e.text).join(' ') ?? '');

describe('/golive audit verdict', () => {
  it('shows a failing audit with every failing check, what it measured and its one-line fix', () => {
    const m = renderAuditVerdict(report([
      result('exchange.key_rights', 'fail', { title: 'Key cannot withdraw', value: 'key can withdraw', fix: 'Create a key with Query and Trade rights only.' }),
      result('risk.kill_switch', 'pass'),
      result('logs.rotation', 'warn', { value: 'not configured yet', fix: 'Set LOG_MAX_BYTES.' }),
      result('reconcile.recent', 'fail', { value: '3 recent trades unmatched', fix: 'Run ctb reconcile & check <fills>.' }),
    ]));
    const blocks = m.blocks as Block[];
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Go-live audit FAILED', emoji: true } });
    expect(blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: ':x: *AUDIT FAILED — 1 pass, 1 warn, 2 fail (full run, paper mode)*\nRun #42 by <@UOPERATOR1> at <!date^1795168800^{date_short_pretty} {time}|2026-11-20T10:00:00.000Z>' },
    });
    expect(blocks[2]!.text!.text).toBe([
      '*Failing checks (2)* — each blocks going live until fixed:',
      ':x: *Key cannot withdraw* — key can withdraw `exchange.key_rights`\n      ↳ _Fix:_ Create a key with Query and Trade rights only.',
      ':x: *Title of reconcile.recent* — 3 recent trades unmatched `reconcile.recent`\n      ↳ _Fix:_ Run ctb reconcile &amp; check &lt;fills&gt;.',
    ].join('\n'));
    expect(blocks[3]!.text!.text).toBe('*Warnings (1)* — allowed, but read them:\n:warning: *Title of logs.rotation* — not configured yet `logs.rotation`\n      ↳ _Fix:_ Set LOG_MAX_BYTES.');
    expect(texts(blocks).at(-1)).toBe('1 of 4 checks passed · full run, paper mode · the whole report on the host: `ctb audit --json`');
    expect(m.text).toBe('AUDIT FAILED — 1 pass, 1 warn, 2 fail (full run, paper mode) — failing: exchange.key_rights, reconcile.recent');
    expect(JSON.stringify(m)).not.toContain('risk.kill_switch');
  });

  it('shows a passing dry run with the next step and no failing section', () => {
    const m = renderAuditVerdict(report([result('a.one', 'pass'), result('a.two', 'pass')], { dryRun: true, armed: true, summaryLine: 'AUDIT PASSED — 2 pass, 0 warn, 0 fail (dry run, paper mode)' }));
    const t = texts(m.blocks);
    expect((m.blocks[0] as Block).text?.text).toBe('Go-live audit passed');
    expect(t[1]).toMatch(/^:white_check_mark: \*AUDIT PASSED/);
    expect(t.some((x) => x.includes('Failing checks'))).toBe(false);
    expect(t.at(-1)).toBe('2 of 2 checks passed · dry run, paper mode, this process armed · the whole report on the host: `ctb audit --json` · next: `/mode live` asks two approvers');
    expect(m.text).toBe('AUDIT PASSED — 2 pass, 0 warn, 0 fail (dry run, paper mode)');
  });

  it('shows the open paper positions going live would set aside, for information, only when there are some', () => {
    const value = 'If the bot goes live: 1 open paper position set aside, not sold (#4 BTC/USD 0.02): simulated, so Kraken holds none of it; '
      + 'no live order sells them and the live caps and exposure leave them out; they stay open in the paper book.';
    const some = renderAuditVerdict(report([
      result('a.one', 'pass'),
      result('golive.paper_positions', 'pass', { title: 'Open paper positions at the switch to live (for information)', value, details: { paperSetAside: [{ tradeId: 4, symbol: 'BTC/USD', quantity: '0.02' }] } }),
    ]));
    expect(texts(some.blocks)).toContain(`*For information* — passing:\n:information_source: *Open paper positions at the switch to live (for information)* — ${value} \`golive.paper_positions\``);
    const none = renderAuditVerdict(report([result('golive.paper_positions', 'pass', { details: { paperSetAside: [] } })]));
    expect(JSON.stringify(none)).not.toContain('For information');
  });

  it('says which go-live thresholds judged the run, where they come from, and which of the environment it ignored', () => {
    const m = renderAuditVerdict(report([result('golive.criteria', 'fail')], {
      thresholds: {
        used: { minPaperTrades: 50, minRoiPct: '0', alertWindowMs: 604_800_000 }, described: '≥ 50 paper trades, paper ROI > 0%, no critical alert in 7d', source: 'engine', recordedBy: 'bot-host:4242 (all)', recordedAt: '2026-11-20T09:00:00.000Z',
        envIgnored: [{ env: 'GOLIVE_ALERT_WINDOW', value: '1m', policy: '7d' }], envStricter: [],
      },
    }));
    expect(texts(m.blocks).at(-2)).toBe([
      "Go-live thresholds: ≥ 50 paper trades, paper ROI &gt; 0%, no critical alert in 7d — the gate policy recorded by the engine's process bot-host:4242 (all) at 2026-11-20T09:00:00.000Z.",
      "GOLIVE_ALERT_WINDOW=1m in this environment is looser than the gate policy (7d) and was ignored: the policy changes only in the engine's environment, with a restart of the engine.",
    ].join('\n'));
  });

  it('stays within Slack\'s limits however many checks fail or however long a fix is', () => {
    const many = Array.from({ length: 400 }, (_, i) => result(`c.n${i}`, 'fail', { fix: `fix ${i} `.repeat(60) }));
    const m = renderAuditVerdict(report(many));
    expect(m.blocks.length).toBeLessThanOrEqual(48);
    for (const b of m.blocks as Block[]) expect((b.text?.text ?? '').length).toBeLessThanOrEqual(3000);
    expect(texts(m.blocks).at(-2)).toMatch(/more sections left out: `ctb audit` prints every line/);
  });

  it('says at once that the audit is running and where the verdict will go', () => {
    expect(renderAuditRunning({ dryRun: false }).text).toBe('Running the go-live audit… the verdict will be posted in this channel when it is done.');
    expect(renderAuditRunning({ dryRun: true }).text).toContain('(dry run: read-only exchange calls)');
  });

  it('reads the slash text: nothing, or dry-run; anything else is a usage error naming what is expected', () => {
    expect(parseGoLiveAuditText('')).toEqual({ dryRun: false });
    expect(parseGoLiveAuditText(' Dry-Run ')).toEqual({ dryRun: true });
    expect(() => parseGoLiveAuditText('now please')).toThrow('`/golive audit` takes nothing, or `dry-run` for read-only exchange calls; got "now please".');
  });
});
