// Owns the small pieces both runbooks share: how people, channels, on-call, the latest audit and the
// process state are written, and the "at a glance" header. Pure functions of RunbookData.
import { gateVerdictText } from '../golive-thresholds.js';
import { staleHolderPhrase, type EngineHolderView } from '../engine-holder.js';
import { isPlaceholder, type RunbookData } from './data.js';

export interface RenderOptions {
  /** How a Slack user id is written (plain `U0123` in the terminal; Slack may mention). */
  user?: (id: string) => string;
  /** How a channel id is written. */
  channel?: (id: string) => string;
}

export const code = (s: string) => `\`${s}\``;

export function people(ids: string[], opts: RenderOptions, unsetHint: string): string {
  if (ids.length === 0) return `**nobody** — ${unsetHint}`;
  return ids.map((id) => (id.startsWith('<') ? code(id) : (opts.user ?? code)(id))).join(', ');
}

export function channel(id: string | null, opts: RenderOptions, variable: string): string {
  if (id === null) return `**not set** — set ${variable}`;
  return id.startsWith('<') ? code(id) : (opts.channel ?? ((c: string) => code(c)))(id);
}

export function onCallLines(d: RunbookData, opts: RenderOptions): string[] {
  const o = d.oncall;
  if (isPlaceholder(o)) return [`- On call now / next: _${o.placeholder}_`];
  if (o.status === 'none') return ['- On call now / next: **no rotation configured — run `ctb oncall set --members U012AB3CD,U045EF6GH,…` (Slack member ids)**; until then critical alerts page the approvers.'];
  const person = (p: { user: string; at?: string } | null, word: string) =>
    p ? `${(opts.user ?? code)(p.user)}${p.at ? ` (${word} ${p.at})` : ''}` : '**nobody** (the approvers are paged)';
  return [`- On call now: ${person(o.now, 'until')}`, `- On call next: ${person(o.next, 'from')}`];
}

export function auditLines(d: RunbookData): string[] {
  const a = d.audit;
  if (isPlaceholder(a)) return [`_${a.placeholder}_`];
  if (a.status === 'never_run') return ['**No audit has run yet.** Run `ctb audit --dry-run` (or `/golive audit`) before anything else.'];
  // As the gate would judge it: a pass by looser settings than the gate policy is not a pass for resume or going live.
  const verdict = !a.passed ? 'FAILED' : a.thresholdRefusal ? gateVerdictText(a) : 'PASSED';
  const head = `Latest audit: ${a.at} by ${code(a.actor)} — **${verdict}**${a.summary ? ` (${a.summary})` : ''}.`;
  if (a.failing.length === 0) return [head, a.passed ? 'No check is failing.' : 'It failed, but recorded no failing check: run `ctb audit` again.'];
  return [head, 'Checks failing or warning now — fix these first:', ...a.failing.map((c) => `- [${c.status}] **${c.name}**: ${c.detail}`)];
}

/** The system's state from the database (the engine lease, bot_state); this process's own arming only as its own. */
export function stateLine(d: RunbookData): string {
  const s = d.state;
  if (isPlaceholder(s)) return `_${s.placeholder}_`;
  const halted = s.halted ? `**HALTED**${s.haltedReason ? ` (${s.haltedReason})` : ''}` : 'not halted';
  const here = s.armedHere ? 'armed (IS_LIVE=true)' : 'not armed (IS_LIVE unset or false)';
  // A mode is traded in only while an engine runs and nothing halts it: otherwise no order goes out at all.
  // A stale holder is hung, not gone: "nothing trades" holds only while it hangs (halted ⇒ nothing, even if it wakes).
  const trading = s.halted ? '**nothing trades**'
    : s.engine.state === 'running' ? `trading in **${s.tradingMode}**`
    // The engine line above says whose lease and since when; here, that it is not paper and what cancels.
    : s.tradingMode === 'unknown' ? '**mode unknown** (never paper: it may resume LIVE trading if it wakes; `ctb kill` cancels from any process)'
    : s.engine.state === 'stale' ? '**nothing trades while it hangs**'
    : '**nothing trades**';
  return `${engineLine(s.engine, s)}; ${trading} (persisted mode **${s.mode}**); ${halted}. `
    + `This process (the one that wrote this) is ${here}; it places no orders unless it runs the engine.`;
}

function engineLine(e: EngineHolderView, s: { mode: 'paper' | 'live'; halted: boolean }): string {
  if (e.state === 'none') return '**No engine running** (no process holds the engine lease)';
  const where = code(`${e.host}:${e.pid}`);
  // Not "no engine": a hung holder that wakes renews its lease and trades again.
  if (e.state === 'stale') return `**Engine ${staleHolderPhrase(e, s)}** (died or hung; no other process has taken over)`;
  const armed = e.armed ? '**armed** (IS_LIVE=true there)' : 'not armed (IS_LIVE=false there: live orders are impossible)';
  return `Engine runs in ${where} (${e.role}), ${armed}`;
}

export function slaSource(d: RunbookData): string {
  return d.escalationSource === 'policy' ? 'the stored critical escalation policy' : 'ESCALATION_ACK_SLA';
}

export function roundsSource(d: RunbookData): string {
  return d.escalationSource === 'policy' ? 'the stored critical escalation policy' : 'ESCALATION_MAX_ROUNDS';
}

/** The critical ladder in words, rung by rung, from the policy in force. */
export function ladder(d: RunbookData, opts: RenderOptions): string {
  const words: Record<string, string> = {
    oncall: 'the person on call',
    next: 'the next person in the rotation',
    approvers: `all approvers (${people(d.approvers, opts, 'set SLACK_APPROVERS')})`,
  };
  const rungs = d.escalationSteps.map((s) => words[s] ?? code(s));
  return rungs.length > 0 ? rungs.join(', then ') : '**nobody** — the stored critical policy has no rungs (see `ctb oncall show`)';
}

export function glance(d: RunbookData, opts: RenderOptions): string[] {
  return [
    `Generated ${d.generatedAt} · release ${d.release}`,
    '',
    stateLine(d),
    '',
    `- Operators (may request live, switch to paper, kill, resume): ${people(d.operators, opts, 'set SLACK_OPERATORS')}`,
    `- Approvers (two must approve a live switch): ${people(d.approvers, opts, 'set SLACK_APPROVERS (a live switch cannot be approved)')}`,
    `- Ops channel (requests, kills, incidents): ${channel(d.opsChannel, opts, 'SLACK_OPS_CHANNEL')} · alerts channel: ${channel(d.alertsChannel, opts, 'SLACK_ALERTS_CHANNEL')}`,
    ...onCallLines(d, opts),
    `- Critical alert must be acknowledged within ${code(d.escalationAckSla)} (${slaSource(d)}) before the next person is paged`,
  ];
}
