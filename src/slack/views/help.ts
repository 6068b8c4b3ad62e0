// Renders the usage of slash commands: all of them (`/golive help`) or one (a usage reply).
import { context, header, section, type SlackMessage } from './message.js';

export interface HelpEntry {
  usage: string;
  summary: string;
  role: 'reader' | 'operator' | 'approver';
}

export interface HelpCommand {
  command: string;
  summary: string;
  subcommands: HelpEntry[];
}

const ROLE_NOTE: Record<HelpEntry['role'], string> = {
  reader: '',
  operator: ' _(operators)_',
  approver: ' _(approvers)_',
};

function lines(entries: HelpEntry[]): string {
  return entries.map((e) => `• \`${e.usage}\` — ${e.summary}${ROLE_NOTE[e.role]}`).join('\n');
}

export function renderHelp(commands: HelpCommand[]): SlackMessage {
  return {
    text: `Commands: ${commands.map((c) => c.command).join(', ')}`,
    blocks: [
      header('crypto-trading-bot commands'),
      ...commands.map((c) => section(`*${c.command}* — ${c.summary}\n${lines(c.subcommands)}`)),
      context('Operators are listed in SLACK_OPERATORS, approvers in SLACK_APPROVERS; everyone may read. Every command is recorded in the audit log (`ctb audit-log`).'),
    ],
  };
}

export function renderCommandUsage(command: HelpCommand, problem?: string): SlackMessage {
  const head = problem ? `:grey_question: ${problem}\n` : '';
  return {
    text: `${problem ? `${problem} ` : ''}Usage: ${command.subcommands.map((s) => s.usage).join(' | ')}`,
    blocks: [section(`${head}*${command.command}* — ${command.summary}\n${lines(command.subcommands)}`)],
  };
}
