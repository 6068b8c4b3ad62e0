// The live switch's Block Kit, checked on its JSON: what approvers need to see, and user text that
// cannot turn into mentions or links.
import { describe, expect, it } from 'vitest';
import { renderChangeRequest, renderModeLiveReply, renderModeOutcome, renderVoteFeedback } from '../../src/slack/views/mode-change.js';

const request = {
  requestId: 7, requester: 'UOPER0001', reason: 'go <!channel> & <https://evil.example|click>', fromMode: 'paper' as const,
  toMode: 'live' as const, audit: { passed: true, summary: 'AUDIT PASSED — 5 pass, 1 warn, 0 fail', auditRunId: 41 },
  checks: [
    { id: 'criteria.trades', name: 'Paper trades', status: 'pass' as const, value: '61', threshold: '50' },
    { id: 'alerting', name: 'Alert delivery', status: 'warn' as const, value: 'no test delivery yet' },
  ],
  approvers: ['UAPPR0002', 'UAPPR0003'], approvalsNeeded: 2, approvalEmoji: 'white_check_mark', rejectionEmoji: 'x',
  expiresAt: new Date('2026-03-02T09:30:00Z'),
};

describe('change request view', () => {
  it('names the requester, audit, criteria with values, approvers, emoji and expiry', () => {
    const json = JSON.stringify(renderChangeRequest(request));
    expect(json).toContain('<@UOPER0001>');
    expect(json).toContain('AUDIT PASSED — 5 pass, 1 warn, 0 fail');
    expect(json).toContain('(run #41)');
    expect(json).toContain('Paper trades: 61 (needs 50)');
    expect(json).toContain(':warning: Alert delivery: no test delivery yet');
    expect(json).toContain('<@UAPPR0002>, <@UAPPR0003>');
    expect(json).toContain('react to this message with :white_check_mark:');
    expect(json).toContain('react with :x:');
    expect(json).toContain('<!date^1772443800^{date_short_pretty} {time}|2026-03-02T09:30:00.000Z>');
  });

  it('escapes the reason so it cannot mention the channel or hide a link', () => {
    const json = JSON.stringify(renderChangeRequest(request));
    expect(json).not.toContain('<!channel>');
    expect(json).toContain('&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
  });

  it('has a plain-text fallback for notifications', () => {
    expect(renderChangeRequest(request).text).toMatch(/Request #7 .* react with :white_check_mark: to approve \(2 approvers needed\)/);
  });
});

describe('outcome view', () => {
  it('names who approved and when', () => {
    const view = renderModeOutcome({
      requestId: 7, status: 'switched', toMode: 'live', title: 'Switched to LIVE trading (request #7)', lines: ['snapshot: backups/x'],
      approvals: [{ user: 'UAPPR0002', at: new Date('2026-03-02T09:01:00Z') }, { user: 'UAPPR0003', at: new Date('2026-03-02T09:02:00Z') }],
    });
    const json = JSON.stringify(view);
    expect(json).toContain('*Approved by* <@UAPPR0002> at <!date^1772442060');
    expect(json).toContain('<@UAPPR0003>');
    expect(json).toContain(':red_circle:');
    expect(view.text).toBe('Switched to LIVE trading (request #7): snapshot: backups/x');
  });

  it('marks a failed live request as a warning', () => {
    const json = JSON.stringify(renderModeOutcome({ requestId: 7, status: 'failed', toMode: 'live', title: 'Live change request #7 failed', lines: ['audit failed'] }));
    expect(json).toContain(':warning: *Live change request #7 failed*');
  });
});

describe('replies and vote feedback', () => {
  it('tells the requester where the request is and who may sign', () => {
    const view = renderModeLiveReply({
      ok: true, opened: true, requestId: 9, expiresAt: '2026-03-02T09:30:00.000Z', message: { channel: 'C0OPS', ts: '1.2' },
      approvers: ['UAPPR0002', 'UAPPR0003'], audit: { passed: true, summary: 'ok', auditRunId: 1, checks: [] },
    });
    expect(view.text).toContain('Request #9 is posted in <#C0OPS>');
    expect(view.text).toContain('<@UAPPR0002>, <@UAPPR0003>');
  });

  it('lists each failing check with its fix when the audit refuses the request', () => {
    const view = renderModeLiveReply({
      ok: false, opened: false, requestId: null, expiresAt: null, message: null, approvers: [],
      audit: { passed: false, summary: 'AUDIT FAILED — 1 fail', auditRunId: 3, checks: [{ id: 'k', name: 'Key rights', status: 'fail', value: 'key can withdraw', fix: 'Create a key without withdraw rights.' }] },
    });
    const json = JSON.stringify(view);
    expect(json).toContain('*Key rights*: key can withdraw');
    expect(json).toContain('Create a key without withdraw rights.');
  });

  it('counts approvals in the thread and explains an ignored reaction to its author only', () => {
    expect(renderVoteFeedback({ kind: 'counted', requestId: 1, approvals: 1 }, 'UAPPR0002', 2)?.text).toBe('Approval 1 of 2: UAPPR0002');
    expect(renderVoteFeedback({ kind: 'ignored', requestId: 1, reason: 'not an approver (SLACK_APPROVERS)' }, 'UX', 2)?.text).toBe(
      'Your reaction did not count: not an approver (SLACK_APPROVERS).',
    );
    expect(renderVoteFeedback({ kind: 'not_a_vote' }, 'UX', 2)).toBeNull();
  });
});
