// What a view function returns: the fallback text (notifications, screen readers) and the blocks.
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

export function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

export function context(...texts: string[]): KnownBlock {
  return { type: 'context', elements: texts.map((text) => ({ type: 'mrkdwn' as const, text })) };
}

export function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: text.slice(0, 150), emoji: true } };
}

export function fields(pairs: Array<[label: string, value: string]>): KnownBlock {
  return { type: 'section', fields: pairs.slice(0, 10).map(([label, value]) => ({ type: 'mrkdwn' as const, text: `*${label}*\n${value}` })) };
}

export const divider: KnownBlock = { type: 'divider' };

/** A plain message from a line of text, for short replies. */
export function textMessage(text: string): SlackMessage {
  return { text, blocks: [section(text)] };
}
