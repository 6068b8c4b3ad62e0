// The dashboard's Trading panel, evaluated by Prometheus's own engine (`promtool test rules` with a
// PromQL test): against an exporter of before ctb_bot_mode{mode="unknown"} (a rolling deploy) it still
// shows the mode, not "no data"; with no exporter at all it shows nothing rather than PAPER.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { promtool } from '../../support/promtool.js';

interface Panel { title: string; targets: Array<{ expr: string }> }
const dashboard = JSON.parse(readFileSync(new URL('../../../grafana/ctb-dashboard.json', import.meta.url), 'utf8')) as { panels: Panel[] };
const expr = dashboard.panels.find((p) => p.title === 'Trading')!.targets[0]!.expr;

/** `promtool test rules` on one PromQL test: `series` at 1m intervals, the panel's value at 5m. */
function evaluate(series: Record<string, string>, expected: Array<{ labels: string; value: number }>) {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-dashboard-'));
  writeFileSync(join(dir, 'rules.yml'), 'groups: []\n');
  writeFileSync(join(dir, 'test.yml'), JSON.stringify({
    rule_files: ['rules.yml'], evaluation_interval: '1m',
    tests: [{
      interval: '1m',
      input_series: Object.entries(series).map(([s, values]) => ({ series: s, values })),
      promql_expr_test: [{ expr, eval_time: '5m', exp_samples: expected.map((e) => ({ labels: e.labels, value: e.value })) }],
    }],
  }));
  return promtool(['test', 'rules', join(dir, 'test.yml')]);
}

/** What an exporter of before the "unknown" mode exported: halted, paper and live, the trading state. */
const older = (live: number) => ({
  'ctb_bot_halted{service="ctb"}': '0x10',
  'ctb_bot_mode{service="ctb", mode="paper"}': `${1 - live}x10`,
  'ctb_bot_mode{service="ctb", mode="live"}': `${live}x10`,
  'ctb_trading_state{service="ctb", state="normal"}': '1x10',
  'ctb_trading_state{service="ctb", state="reducing"}': '0x10',
});

describe('the Trading panel during a rolling deploy', () => {
  it('shows PAPER (0) and LIVE (1) from an exporter without mode="unknown"', () => {
    for (const live of [0, 1]) {
      const r = evaluate(older(live), [{ labels: '{}', value: live }]);
      expect(r.output, `live ${live}`).toContain('SUCCESS');
      expect(r.status).toBe(0);
    }
  });

  it('shows nothing, never PAPER, when no exporter answers', () => {
    const r = evaluate({ 'up{job="other"}': '1x10' }, []);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});
