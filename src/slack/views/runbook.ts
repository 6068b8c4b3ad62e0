// Renders a runbook result (`/golive help`) as Block Kit: the same Markdown the terminal prints,
// turned into Slack mrkdwn — a header, one section per heading (split below Slack's 3000-character
// limit), tables as bullet lines, people as mentions and channels as links.
import type { types } from '@slack/bolt';
import type { RunbookResult } from '../../../commands/runbook.js';
import { renderRunbook } from '../../services/runbook/index.js';

type KnownBlock = types.KnownBlock;

export interface RunbookMessage {
  text: string;
  blocks: KnownBlock[];
}

const SECTION_LIMIT = 2900;
const MAX_BLOCKS = 48;
// Markers that survive escaping; replaced by Slack mentions afterwards.
const USER = (id: string) => `\u0001U${id}\u0002`;
const CHANNEL = (id: string) => `\u0001C${id}\u0002`;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

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
    return row === null ? null : restoreMentions(escape(row).replace(/\*\*(.+?)\*\*/g, '*$1*'));
  }
  const quote = /^>\s?(.*)$/.exec(line);
  const body = quote ? quote[1]! : line;
  const heading = /^##+\s+(.*)$/.exec(body);
  let out = escape(heading ? `**${heading[1]}**` : body)
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
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: title.slice(0, 150), emoji: true } }];
  for (const group of groups) {
    const trimmed = group.join('\n').trim();
    if (!trimmed) continue;
    for (const text of chunk(trimmed.split('\n'))) blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  }
  return { title, blocks: blocks.slice(0, MAX_BLOCKS) };
}

function auditWord(data: RunbookResult['data']): string {
  const a = data.audit;
  if ('placeholder' in a) return '';
  return a.status === 'ran' ? `latest audit ${a.passed ? 'passed' : 'FAILED'}` : 'no audit has run yet';
}

export function renderRunbookMessage(result: Pick<RunbookResult, 'name' | 'data'>): RunbookMessage {
  const markdown = renderRunbook(result.name, result.data, { user: USER, channel: CHANNEL });
  const { title, blocks } = markdownToBlocks(markdown);
  const footer: KnownBlock = {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Filled in from the running configuration; the same text on the host: \`ctb runbook ${result.name}\`.` }],
  };
  return { text: `${title} — ${auditWord(result.data)}`, blocks: [...blocks, footer].slice(0, 50) };
}
