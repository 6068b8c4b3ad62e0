// Every `ctb` subcommand, in help order: its name, the one line `ctb --help` shows, and the module
// that registers it. A module is imported only when its command runs (or `ctb help <name>`), so
// `ctb --help` loads none of them and `ctb mode status` loads only mode.ts and what it imports —
// no chart, Slack, email or exchange library. Each issue's commands add themselves here; the
// summary must equal the command's .description() (tests/unit/cli-lazy.test.ts checks it).
import type { CliRegistration } from '../program.js';

export interface CliCommandEntry {
  name: string;
  summary: string;
  /** It changes the account (cancels or sells): guessed for a mistyped word only a slip away (changes-account.ts). */
  changesAccount?: true;
  load: () => Promise<CliRegistration>;
}

const startCli = () => import('./start.js').then((m) => m.startCli);
const goLiveToolsCli = () => import('./go-live-tools.js').then((m) => m.goLiveToolsCli);
const incidentCli = () => import('./incident.js').then((m) => m.incidentCli);
const pauseCli = () => import('./pause.js').then((m) => m.pauseCli);
const tradesCli = () => import('./trades.js').then((m) => m.tradesCli);

export const cliCommands: CliCommandEntry[] = [
  { name: 'start', summary: 'run the bot (engine, HTTP, Slack when configured) until stopped', load: startCli },
  {
    name: 'migrate',
    summary: 'apply database migrations (PostgreSQL when DATABASE_URL is set, else the embedded database)',
    load: () => import('./migrate.js').then((m) => m.migrateCli),
  },
  {
    name: 'audit',
    summary: 'run the go-live audit: every checklist item a program can check (exit 1 on any failure)',
    load: () => import('./audit.js').then((m) => m.auditCli),
  },
  { name: 'verify-credentials', summary: 'check the Kraken key: stored safely, authenticates, can trade, cannot withdraw', load: goLiveToolsCli },
  {
    name: 'reconcile',
    summary:
      'where reconciliation with Kraken stands (what blocks trading, and what to do), then the ledger against Kraken trade history and balances (JSON report in REPORTS_DIR)',
    load: goLiveToolsCli,
  },
  { name: 'audit-roi', summary: 'compare ROI from the ledger with equity snapshots and Kraken balances', load: goLiveToolsCli },
  {
    name: 'stats',
    summary: 'trade counts, ROI, PnL, fees, drawdown and exposure — paper and live side by side',
    load: () => import('./stats.js').then((m) => m.statsCli),
  },
  {
    name: 'validate-trades',
    summary: 'check every closed trade: exit after entry, PnL consistent with prices, size and fees, capital_buffer set and non-negative',
    load: () => import('./validate-trades.js').then((m) => m.validateTradesCli),
  },
  {
    name: 'kill',
    summary: 'EMERGENCY: cancel every open order (Kraken, and paper), halt in paper mode, open the incident checklist',
    changesAccount: true,
    load: () => import('./kill.js').then((m) => m.killCli),
  },
  { name: 'incident', summary: 'the kill incident and its manual-intervention checklist', load: incidentCli },
  { name: 'resume', summary: 'lift a halt: needs a passing audit since the halt and a done checklist; stays in paper', load: incidentCli },
  {
    name: 'backup',
    summary: 'snapshot configuration, logs, reports and the ledger; verify a snapshot',
    load: () => import('./backup.js').then((m) => m.backupCli),
  },
  {
    name: 'check-logs',
    summary: 'look for unhandled errors in LOG_DIR/system.log and anomalies.log (exit 1 when any)',
    load: () => import('./check-logs.js').then((m) => m.checkLogsCli),
  },
  {
    name: 'runbook',
    summary: 'runbooks filled in from the running configuration (go-live, incident)',
    load: () => import('./runbook.js').then((m) => m.runbookCli),
  },
  {
    name: 'version',
    summary: 'print the release tag or commit (git describe --tags --always --dirty; outside a checkout the tag dist/build-info.json recorded at build, or package version + BUILD_COMMIT), and the commit dist/ was built at when it differs',
    load: () => import('./version.js').then((m) => m.versionCli),
  },
  {
    name: 'alerts',
    summary: 'alert pipeline: list open alerts, test the channels, acknowledge, resolve, silence',
    load: () => import('./alerts.js').then((m) => m.alertsCli),
  },
  {
    name: 'oncall',
    summary: 'on-call rotation: who is on call, set the rotation, override',
    load: () => import('./oncall.js').then((m) => m.oncallCli),
  },
  {
    name: 'mode',
    summary: 'paper/live mode: status, roll back to paper, the sign-off history',
    load: () => import('./mode.js').then((m) => m.modeCli),
  },
  {
    name: 'audit-log',
    summary: 'the command trail: every command from Slack, the terminal and jobs — who, when, arguments, allowed or refused, result',
    load: () => import('./audit-log.js').then((m) => m.auditLogCli),
  },
  {
    name: 'self-heal',
    summary:
      'detect a lost database, exchange errors, a stale engine heartbeat or a saved kill; reconnect with backoff, resync orders, alert; never resumes a halt',
    load: () => import('./self-heal.js').then((m) => m.selfHealCli),
  },
  { name: 'pause', summary: 'pause new entries now (trading state reducing): exits and stop-losses continue', load: pauseCli },
  { name: 'unpause', summary: 'resume new entries; after a risk-guard pause, once the breach cleared (or --force with --reason)', load: pauseCli },
  {
    name: 'simulate-kraken',
    summary: 'run a local Kraken (REST and WebSocket executions) on 127.0.0.1 to rehearse live trading with no money',
    load: () => import('./simulate-kraken.js').then((m) => m.simulateKrakenCli),
  },
  {
    name: 'simulate-slack',
    summary: "run a local stand-in for Slack's Web API on 127.0.0.1 and act as people in it, to rehearse the live switch with no workspace",
    load: () => import('./simulate-slack.js').then((m) => m.simulateSlackCli),
  },
  { name: 'trades', summary: 'open trades: size, entry, mark price, unrealised PnL, age, strategy, book; totals per book', load: tradesCli },
  { name: 'balance', summary: "the paper book, and Kraken's balances (bot-managed vs the whole account) when a key is set", load: tradesCli },
  {
    name: 'exit',
    summary: 'close one open trade (or all) at market through the engine; shows what it would sell unless --yes',
    changesAccount: true,
    load: () => import('./exit.js').then((m) => m.exitCli),
  },
  {
    name: 'completion',
    summary: 'print a shell completion script: source <(ctb completion bash), or zsh',
    load: () => import('./completion.js').then((m) => m.completionCli(cliCommands)),
  },
];
