import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { runbookDataFromConfig } from '../../../src/services/runbook/collect.js';
import type { RunbookData } from '../../../src/domain/runbook/data.js';
import { engineFixture } from '../../support/factories/dashboard.js';
import { markdownToBlocks, renderRunbookMessage } from '../../../src/slack/views/runbook.js';

const data = (over: Partial<RunbookData> = {}): RunbookData => ({
  generatedAt: '2026-01-05T03:00:00.000Z',
  release: 'v1.0',
  state: { engine: engineFixture({ armed: true }), tradingMode: 'paper', mode: 'paper', halted: true, haltedReason: 'spread <blew> out & more', armedHere: true },
  oncall: { status: 'configured', now: { user: 'U0ONC0001', at: '2026-01-06T09:00:00Z' }, next: null },
  audit: { status: 'ran', at: '2026-01-05T02:00:00.000Z', actor: 'cli:ops', passed: false, summary: '1 fail', thresholdRefusal: null, failing: [{ name: 'Credentials', status: 'fail', detail: '.env is 0644' }] },
  ...runbookDataFromConfig(testConfig({ SLACK_APPROVERS: 'U0APR0001,U0APR0002', SLACK_OPERATORS: 'U0OPS0001', SLACK_OPS_CHANNEL: 'C0OPS0001' })),
  ...over,
});

describe('/golive help runbook view', () => {
  it('mentions the approvers, the on-call person and links the ops channel', () => {
    const json = JSON.stringify(renderRunbookMessage({ name: 'go-live', data: data() }).blocks);
    expect(json).toContain('Two *different* approvers from <@U0APR0001>, <@U0APR0002> react with :white_check_mark:');
    expect(json).toContain('On call now: <@U0ONC0001> (until 2026-01-06T09:00:00Z)');
    expect(json).toContain('<#C0OPS0001>');
  });

  it('escapes text from people and never leaves Markdown bold or placeholders behind', () => {
    const json = JSON.stringify(renderRunbookMessage({ name: 'incident', data: data() }).blocks);
    expect(json).toContain('spread &lt;blew&gt; out &amp; more');
    expect(json).not.toContain('**');
    expect(json).not.toMatch(/\\u000[12]/);
  });

  it('fits Slack limits: a header first, sections under 3000 characters, at most 50 blocks', () => {
    for (const name of ['go-live', 'incident'] as const) {
      const m = renderRunbookMessage({ name, data: data() });
      expect(m.blocks[0]).toMatchObject({ type: 'header' });
      expect(m.blocks.length).toBeLessThanOrEqual(50);
      for (const b of m.blocks) if (b.type === 'section') expect((b.text as { text: string }).text.length).toBeLessThanOrEqual(3000);
      expect(m.text).toMatch(/latest audit FAILED$/);
    }
  });

  it('turns tables into bullet lines and splits a long section', () => {
    const md = ['# T', '## S', '| A | B |', '| --- | --- |', '| one | two |', ...Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(40)}`)].join('\n');
    const { blocks } = markdownToBlocks(md);
    const texts = blocks.filter((b) => b.type === 'section').map((b) => (b.text as { text: string }).text);
    expect(texts[0]).toContain('*S*\n• *one* — two');
    expect(texts[0]).not.toContain('*A*');
    expect(texts.length).toBeGreaterThan(1);
  });
});
