// Every `ctb` subcommand, in help order. Each issue's commands add themselves here.
import type { CliRegistration } from '../program.js';
import { alertsCli } from './alerts.js';
import { auditCli } from './audit.js';
import { auditLogCli } from './audit-log.js';
import { backupCli } from './backup.js';
import { checkLogsCli } from './check-logs.js';
import { goLiveToolsCli } from './go-live-tools.js';
import { incidentCli } from './incident.js';
import { killCli } from './kill.js';
import { migrateCli } from './migrate.js';
import { oncallCli } from './oncall.js';
import { pauseCli } from './pause.js';
import { tradesCli } from './trades.js';
import { exitCli } from './exit.js';
import { runbookCli } from './runbook.js';
import { selfHealCli } from './self-heal.js';
import { simulateKrakenCli } from './simulate-kraken.js';
import { modeCli } from './mode.js';
import { startCli } from './start.js';
import { statsCli } from './stats.js';
import { versionCli } from './version.js';
import { validateTradesCli } from './validate-trades.js';

export const cliCommands: CliRegistration[] = [
  startCli, migrateCli, auditCli, goLiveToolsCli, statsCli, validateTradesCli, killCli, incidentCli, backupCli, checkLogsCli, runbookCli, versionCli, alertsCli, oncallCli,
  modeCli,
  auditLogCli,
  selfHealCli,
  pauseCli,
  simulateKrakenCli,
  tradesCli,
  exitCli,
];
