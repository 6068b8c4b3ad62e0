// Renders a runbook result (`/golive help`) as Block Kit: the same Markdown the terminal prints,
// turned into Slack mrkdwn — a header, one section per heading (split below Slack's 3000-character
// limit), tables as bullet lines, people as mentions and channels as links.
import type { RunbookResult } from '../../../commands/runbook.js';
import { renderRunbook } from '../../domain/runbook/index.js';
import { renderHelp, type HelpCommand } from './help.js';
import { context, divider, escapeText, header, section, type KnownBlock, type SlackMessage } from './message.js';

const SECTION_LIMIT = 2900;
const MAX_BLOCKS = 48;
// Markers that survive escaping; replaced by Slack mentions afterwards.
const USER = (id: string) => `\u0001U${id}\u0002`;
const CHANNEL = (id: string) => `\u0001C${id}\u0002`;

function restoreMentions(text: string): string {
  return text.replace(/\u0001U([A-Z0-9]+)\u0002/g, '<@$1>').replace(/\u0001C([A-Z0-9]+)\u0002/g, '<#$1>');
}

function tableRow(line: string): string | null {
  const cells = line.split('|').slice(1, -1).map((c) => c.trim());
  if (cells.every((c) => /^-+$/.test(c))) return null;
  const [first, ...rest] = cells;
  return `• *${first}* — ${rest.join(' — ')}`;
}

/** One Markdown line → one mrkdwn line (escaped; quotes kept as Slack quotes). */
export function mrkdwnLine(line: string): string | null {
  if (/^\s*\|.*\|\s*$/.test(line)) {
    const row = tableRow(line);
    return row === null ? null : restoreMentions(escapeText(row).replace(/\*\*(.+?)\*\*/g, '*$1*'));
  }
  const quote = /^>\s?(.*)$/.exec(line);
  const body = quote ? quote[1]! : line;
  const heading = /^##+\s+(.*)$/.exec(body);
  let out = escapeText(heading ? `**${heading[1]}**` : body)
    .replace(/\*\*(.+?)\*\*/g, '*$1*')
    .replace(/\[ \]/g, '☐');
  out = restoreMentions(out);
  return quote ? `>${out}` : out;
}

function chunk(lines: string[]): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of lines) {
    const next = current ? `${current}\n${line}` : line;
    if (next.length > SECTION_LIMIT && current) {
      out.push(current);
      current = line.slice(0, SECTION_LIMIT);
    } else current = next.slice(0, SECTION_LIMIT);
  }
  if (current.trim()) out.push(current);
  return out;
}

export function markdownToBlocks(markdown: string): { title: string; blocks: KnownBlock[] } {
  const lines = markdown.split('\n');
  const titleLine = lines.find((l) => /^#\s/.test(l)) ?? '# Runbook';
  const title = titleLine.replace(/^#\s+/, '');
  const groups: string[][] = [[]];
  const isTable = (l: string | undefined) => l !== undefined && /^\s*\|.*\|\s*$/.test(l);
  for (const [i, line] of lines.entries()) {
    if (line === titleLine) continue;
    // A table's header row (the row above its --- separator) says nothing a bullet needs.
    if (isTable(line) && isTable(lines[i + 1]) && tableRow(lines[i + 1]!) === null) continue;
    if (/^##\s/.test(line)) groups.push([]);
    const converted = mrkdwnLine(line);
    if (converted !== null) groups[groups.length - 1]!.push(converted);
  }
  const blocks: KnownBlock[] = [header(title)];
  for (const group of groups) {
    const trimmed = group.join('\n').trim();
    if (!trimmed) continue;
    for (const text of chunk(trimmed.split('\n'))) blocks.push(section(text));
  }
  return { title, blocks: blocks.slice(0, MAX_BLOCKS) };
}

function auditWord(data: RunbookResult['data']): string {
  const a = data.audit;
  if ('placeholder' in a) return '';
  return a.status === 'ran' ? `latest audit ${a.passed ? 'passed' : 'FAILED'}` : 'no audit has run yet';
}

export function renderRunbookMessage(result: Pick<RunbookResult, 'name' | 'data'>): SlackMessage {
  const markdown = renderRunbook(result.name, result.data, { user: USER, channel: CHANNEL });
  const { title, blocks } = markdownToBlocks(markdown);
  const footer = context(`Filled in from the running configuration; the same text on the host: \`ctb runbook ${result.name}\`.`);
  return { text: `${title} — ${auditWord(result.data)}`, blocks: [...blocks, footer].slice(0, 50) };
}

/** `/golive help`: the go-live runbook, then every slash command's usage. */
export function renderGoLiveHelp(result: Pick<RunbookResult, 'name' | 'data'>, commands: HelpCommand[]): SlackMessage {
  const runbook = renderRunbookMessage(result);
  const help = renderHelp(commands);
  const blocks = [...runbook.blocks, divider, ...help.blocks];
  // Slack refuses more than 50 blocks: keep the whole command list, shorten the runbook if ever needed.
  const overflow = Math.max(0, blocks.length - 50);
  const kept = overflow > 0 ? [...runbook.blocks.slice(0, runbook.blocks.length - overflow - 1), context('(runbook shortened: `ctb runbook go-live` prints all of it)'), divider, ...help.blocks] : blocks;
  return { text: `${runbook.text}. ${help.text}`, blocks: kept };
}
