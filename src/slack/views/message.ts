// What a view function returns: the fallback text (notifications, screen readers) and the blocks,
// and the block builders, which keep Block Kit's limits (3,000 characters a text, 2,000 a field,
// 150 a header, 10 fields or context elements): a long list is split over several sections
// (sectionsOf) or cut to what fits with "…and N more" (listSection), never cut mid-line.
import type { types } from '@slack/bolt';

export type KnownBlock = types.KnownBlock;

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Slack mrkdwn needs &, < and > escaped in text that came from people or the exchange. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const TEXT_LIMIT = 3000;
const FIELD_LIMIT = 2000;

/**
 * `text` within `max` characters: cut at the last line break (else space) that fits, with an
 * ellipsis, so a date token, a mention or a link is never cut in half. A last resort: lists should
 * be split (sectionsOf) or capped (listSection) before they get here.
 */
export function fitText(text: string, max = TEXT_LIMIT): string {
  if (text.length <= max) return text;
  const room = text.slice(0, max - 1);
  const cut = Math.max(room.lastIndexOf('\n'), room.lastIndexOf(' '));
  return `${cut > max / 2 ? room.slice(0, cut) : room}…`;
}

export function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: fitText(text) } };
}

export function context(...texts: string[]): KnownBlock {
  return { type: 'context', elements: texts.slice(0, 10).map((text) => ({ type: 'mrkdwn' as const, text: fitText(text) })) };
}

/** Lines under a heading, split over as many sections as they need (each within 3,000 characters). */
export function sectionsOf(heading: string, lines: string[]): KnownBlock[] {
  const chunks: string[] = [];
  let current = heading;
  for (const line of lines.map((l) => fitText(l, TEXT_LIMIT - heading.length - 1))) {
    const next = current === '' ? line : `${current}\n${line}`;
    if (next.length > TEXT_LIMIT && current !== '') {
      chunks.push(current);
      current = line;
    } else {
      current = next;
    }
  }
  if (current !== '') chunks.push(current);
  return chunks.map(section);
}

/**
 * One section: the heading, as many lines as fit, then "…and N more: where" for the rest (`total`
 * counts lines the caller did not even read).
 */
export function listSection(heading: string, lines: string[], opts: { total?: number; more: string }): KnownBlock {
  const total = opts.total ?? lines.length;
  const tail = (shown: number) => (total > shown ? `\n_…and ${total - shown} more: ${opts.more}_` : '');
  let shown = lines.length;
  const body = (n: number) => [heading, ...lines.slice(0, n)].join('\n');
  while (shown > 0 && body(shown).length + tail(shown).length > TEXT_LIMIT) shown -= 1;
  return section(`${body(shown)}${tail(shown)}`);
}

export function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: text.slice(0, 150), emoji: true } };
}

export function fields(pairs: Array<[label: string, value: string]>): KnownBlock {
  return { type: 'section', fields: pairs.slice(0, 10).map(([label, value]) => ({ type: 'mrkdwn' as const, text: fitText(`*${label}*\n${value}`, FIELD_LIMIT) })) };
}

export const divider: KnownBlock = { type: 'divider' };

/** A plain message from a line of text, for short replies. */
export function textMessage(text: string): SlackMessage {
  return { text, blocks: [section(text)] };
}
