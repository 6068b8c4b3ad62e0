// Owns what the bot said in the stand-in's workspace: every message it posted (and its later edits),
// every ephemeral reply, and every reply to a slash command's response_url, in the order they came.
// A message keeps its channel, ts and thread as Slack would; people react to it by that ts, and its
// reactions are kept on it (reactions.get reads them back).

export type EntryKind = 'message' | 'ephemeral' | 'reply';

export interface LogEntry {
  seq: number;
  kind: EntryKind;
  channel: string;
  /** A message's ts (its id in the channel); an ephemeral reply's message_ts. */
  ts?: string;
  threadTs?: string;
  /** An ephemeral reply's reader, or who typed the command a reply answers. */
  user?: string;
  /** The slash command's id (the trigger_id of its response_url) a reply answers. */
  trigger?: string;
  text: string;
  /** Times chat.update rewrote it. */
  edits: number;
  metadata?: unknown;
  /** Who reacted with which emoji (a message's), in the order they did. */
  reactions?: Record<string, string[]>;
  at: string;
}

/** The words a message carries: its text, else its blocks' text (sections, headers, context). */
export function textOf(body: Record<string, unknown>): string {
  if (typeof body.text === 'string' && body.text !== '') return body.text;
  const blocks = Array.isArray(body.blocks) ? (body.blocks as Array<Record<string, unknown>>) : [];
  const words: string[] = [];
  for (const b of blocks) {
    const t = b.text as { text?: unknown } | undefined;
    if (typeof t?.text === 'string') words.push(t.text);
    for (const e of (Array.isArray(b.elements) ? b.elements : []) as Array<{ text?: unknown }>) {
      if (typeof e.text === 'string') words.push(e.text);
    }
  }
  return words.join('\n');
}

export class ConversationLog {
  readonly entries: LogEntry[] = [];
  /** Told of each entry as it is kept (the stand-in's console). */
  onEntry: ((entry: LogEntry) => void) | undefined;
  private seq = 0;
  private lastTs = 0;

  /** A new ts, later than every one before it (Slack's form: seconds.micro-sequence). */
  nextTs(): string {
    const now = Math.max(Math.floor(Date.now() / 1000) * 1_000_000, this.lastTs + 1);
    this.lastTs = now;
    return `${Math.floor(now / 1_000_000)}.${String(now % 1_000_000).padStart(6, '0')}`;
  }

  add(entry: Omit<LogEntry, 'seq' | 'edits' | 'at'>): LogEntry {
    const full: LogEntry = { ...entry, seq: ++this.seq, edits: 0, at: new Date().toISOString() };
    this.entries.push(full);
    this.onEntry?.(full);
    return full;
  }

  message(channel: string, ts: string): LogEntry | undefined {
    return this.entries.find((e) => e.kind === 'message' && e.channel === channel && e.ts === ts);
  }

  /** Puts `user`'s `name` reaction on the message (once); false when there is no such message. */
  react(channel: string, ts: string, name: string, user: string): boolean {
    const entry = this.message(channel, ts);
    if (!entry) return false;
    const reactions = (entry.reactions ??= {});
    const users = (reactions[name] ??= []);
    if (!users.includes(user)) users.push(user);
    return true;
  }

  /** The bot's message with this ts, in whichever channel. */
  messageByTs(ts: string): LogEntry | undefined {
    return this.entries.find((e) => e.kind === 'message' && e.ts === ts);
  }
}
