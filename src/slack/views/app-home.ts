// Renders the App Home tab from a Dashboard (src/services/dashboard/read-dashboard.ts): mode and
// halt state under the paper/LIVE badge, equity and today's PnL per book, open positions, who is on
// call, open alerts. A pure function of plain data, tested on its JSON. Amounts read as the terminal
// shows them: money to the cent, PnL signed, positions' sizes as held and prices as `ctb trades` has them.
import { money, price, signedMoney, trimmed } from '../../domain/amount-text.js';
import type { Dashboard, DashboardBook } from '../../services/dashboard/read-dashboard.js';
import { badgeBlock } from './badge.js';
import { armedField, engineLine, paperWithdrawnLine, tradingModeField, unknownModeLine } from './mode-status.js';
import { actorLabel, slackDate } from './format.js';
import { tradingStateField } from './trading-state.js';
import { context, divider, escapeText, fields, header, listSection, section, type KnownBlock } from './message.js';

export interface HomeView {
  type: 'home';
  blocks: KnownBlock[];
}

const BOOK_TITLE: Record<DashboardBook['book'], string> = { paper: 'Paper', live: 'Live', replay: 'Replay (practice)' };
const SEVERITY_ICON = { critical: ':rotating_light:', warning: ':warning:', info: ':information_source:' } as const;

function modeBlocks(d: Dashboard): KnownBlock[] {
  const m = d.mode;
  const line = m.mode === 'unknown' ? unknownModeLine(m.engine)
    : m.mode === 'live' ? ':red_circle: *LIVE* — trading real money'
      : m.liveWithdrawn && m.requestedMode === 'paper' ? paperWithdrawnLine(m.liveWithdrawn) : ':page_facing_up: *PAPER* — simulated fills on real prices';
  const halted = m.halted
    ? `:octagonal_sign: *HALTED*${m.haltedReason ? ` — ${escapeText(m.haltedReason)}` : ''}${m.haltedBy ? ` by ${actorLabel(m.haltedBy)}` : ''}${m.haltedAt ? ` at ${slackDate(m.haltedAt)}` : ''}`
    : 'no';
  const pairs: Array<[string, string]> = [
    ['Mode', tradingModeField(m.mode)],
    ['Halted', halted],
    ['Armed (IS_LIVE)', armedField(m)],
    ['Requested mode', m.requestedMode],
    ['Engine', engineLine(m)],
  ];
  pairs.push(['Trading state', tradingStateField(m.tradingState)]);
  return [section(line), fields(pairs)];
}

function bookField(b: DashboardBook): [string, string] {
  const equity = b.equity ? `${money(b.equity.latest)} (at ${slackDate(new Date(b.equity.at))})` : '— (no snapshot yet)';
  const t = b.today;
  const today = `${signedMoney(t.realized)} realised, ${t.closed} closed${t.closed > 0 ? ` (${t.wins}W/${t.losses}L)` : ''}, fees ${money(t.fees)}`;
  const unrealized = b.open === 0 ? 'no open positions' : `${b.open} open, unrealised ${b.unrealized === null ? '— (no fresh marks)' : signedMoney(b.unrealized)}`;
  return [BOOK_TITLE[b.book], `Equity ${equity}\nToday ${today}\n${unrealized}`];
}

function positionsBlock(d: Dashboard): KnownBlock {
  const { shown, total } = d.positions;
  if (total === 0) return section('*Open positions*\nNone.');
  const lines = shown.map(
    (p) => `• *${escapeText(p.symbol)}* ${trimmed(p.quantity)} @ ${price(p.entryPrice)} — ${escapeText(p.strategy)}, ${p.book}, since ${slackDate(new Date(p.entryAt))}`,
  );
  return listSection(`*Open positions (${total})*`, lines, { total, more: '`ctb stats`' });
}

function onCallBlock(d: Dashboard): KnownBlock {
  const o = d.onCall;
  if (!o.primary) return section('*On call*\nNobody is on call: set a rotation with `ctb oncall set --members U…,U…`.');
  const how = o.via === 'override' ? 'override' : 'rotation';
  const until = o.until ? `, until ${slackDate(new Date(o.until))}` : '';
  const next = o.next && o.next !== o.primary ? `\nNext: ${actorLabel(o.next)}` : '';
  return section(`*On call*\n${actorLabel(o.primary)} (${how}${until})${next}`);
}

function alertsBlock(d: Dashboard): KnownBlock {
  const { shown, total } = d.alerts;
  if (total === 0) return section('*Open alerts*\nNone.');
  const lines = shown.map((a) => {
    const times = a.count > 1 ? ` ×${a.count}` : '';
    const ack = a.status === 'acknowledged' ? ` — acknowledged${a.acknowledgedBy ? ` by ${actorLabel(a.acknowledgedBy)}` : ''}` : ' — *not acknowledged*';
    const silenced = a.silencedUntil ? `, silenced until ${slackDate(new Date(a.silencedUntil))}` : '';
    return `${SEVERITY_ICON[a.severity]} ${a.test ? '[TEST] ' : ''}${escapeText(a.title)}${times}${ack}${silenced} · last ${slackDate(new Date(a.lastAt))}`;
  });
  return listSection(`*Open alerts (${total})*`, lines, { total, more: '`ctb alerts list`' });
}

export function renderAppHome(d: Dashboard): HomeView {
  const books = d.books.filter((b) => b.book !== 'replay' || b.equity !== null || b.open > 0 || b.today.closed > 0);
  return {
    type: 'home',
    blocks: [
      badgeBlock({ mode: d.mode.mode, halted: d.mode.halted, tradingState: d.mode.tradingState.state }),
      header('crypto-trading-bot'),
      ...modeBlocks(d),
      divider,
      section(`*Equity and today's PnL* (since ${slackDate(new Date(d.todayFrom))})`),
      fields(books.map(bookField)),
      positionsBlock(d),
      divider,
      onCallBlock(d),
      alertsBlock(d),
      context(`Updated ${slackDate(new Date(d.at))} — refreshed each time you open this tab · \`/golive status\` · \`/stats\` · \`/oncall\``),
    ],
  };
}

/** What the tab shows when the dashboard could not be read. */
export function renderAppHomeError(reference: string): HomeView {
  return {
    type: 'home',
    blocks: [
      header('crypto-trading-bot'),
      section(`:warning: The dashboard could not be read just now. Open the tab again in a moment.`),
      context(`Reference \`${reference}\` — quote it when asking for help; the same id is in the bot's log.`),
    ],
  };
}
