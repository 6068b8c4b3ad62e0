// Pure routing: which row a slash text selects, which idempotency key a Slack body carries, and
// which requests' claims read the status for their command (the status commands).
import { describe, expect, it } from 'vitest';
import { deliveryOf, RecentKeys } from '../../../src/slack/deliveries.js';
import { readsStatusFirst } from '../../../src/slack/listeners/register.js';
import { listenerTable } from '../../../src/slack/listeners/table.js';
import { matchSubcommand } from '../../../src/slack/listeners/slash.js';
import type { SlashCommandRow, SlashSubcommand } from '../../../src/slack/listeners/types.js';

const sub = (name: string | null): SlashSubcommand => ({ name, usage: `/x ${name ?? '…'}`, summary: '', role: 'reader', handle: async () => {} });

describe('matchSubcommand', () => {
  const mode: SlashCommandRow = { command: '/mode', summary: '', whenEmpty: 'status', subcommands: [sub('status'), sub('live'), sub('paper')] };
  const kill: SlashCommandRow = { command: '/kill', summary: '', subcommands: [sub(null)] };

  it('matches the first word case-insensitively and keeps the rest', () => {
    expect(matchSubcommand(mode, '  LIVE   because   tests pass ')).toMatchObject({ sub: { name: 'live' }, word: 'live', words: ['because', 'tests', 'pass'], rest: 'because tests pass' });
  });

  it('uses whenEmpty for empty text', () => {
    expect(matchSubcommand(mode, '   ').sub?.name).toBe('status');
  });

  it('names an unknown subcommand as the problem', () => {
    expect(matchSubcommand(mode, 'turbo x')).toMatchObject({ sub: null, problem: "I don't know `/mode turbo`." });
  });

  it('suggests the subcommand a misspelt word is closest to, as the terminal does', () => {
    expect(matchSubcommand(mode, 'lve')).toMatchObject({ sub: null, problem: "I don't know `/mode lve`. (Did you mean live?)" });
  });

  it('answers help with usage (no problem) unless a row is named help', () => {
    expect(matchSubcommand(mode, 'help')).toMatchObject({ sub: null, word: 'help' });
    expect(matchSubcommand(mode, 'help').problem).toBeUndefined();
  });

  it('gives a catch-all row the whole text', () => {
    expect(matchSubcommand(kill, 'spread blew out')).toMatchObject({ sub: { name: null }, rest: 'spread blew out', words: ['spread', 'blew', 'out'] });
    expect(matchSubcommand(kill, '')).toMatchObject({ sub: { name: null }, rest: '' });
  });
});

describe('deliveryOf', () => {
  it('keys events by event_id, commands and actions by trigger_id', () => {
    expect(deliveryOf({ type: 'event_callback', event_id: 'Ev1' }, 2)).toEqual({ key: 'event:Ev1', surface: 'event', retryNum: 2 });
    expect(deliveryOf({ command: '/kill', trigger_id: 't1' }).key).toBe('command:t1');
    expect(deliveryOf({ type: 'block_actions', trigger_id: 't2', actions: [] }).key).toBe('action:t2');
    expect(deliveryOf({ type: 'view_submission', trigger_id: 't3' }).key).toBe('view:t3');
  });

  it('falls back to a digest of the body, equal for equal bodies', () => {
    const a = deliveryOf({ command: '/kill', text: 'x' });
    expect(a.key).toMatch(/^command:[0-9a-f]{32}$/);
    expect(deliveryOf({ command: '/kill', text: 'x' }).key).toBe(a.key);
    expect(deliveryOf({ command: '/kill', text: 'y' }).key).not.toBe(a.key);
  });
});

describe('RecentKeys', () => {
  it('remembers keys up to its limit, forgetting the oldest', () => {
    const keys = new RecentKeys(2);
    expect(keys.add('a')).toBe(true);
    expect(keys.add('a')).toBe(false);
    keys.add('b');
    keys.add('c');
    expect(keys.add('a')).toBe(true);
    expect(keys.add('c')).toBe(false);
  });
});

describe('readsStatusFirst', () => {
  const readsStatus = readsStatusFirst(listenerTable);
  const slash = (command: string, text: string) => ({ command, text, user_id: 'U1', trigger_id: 't1' });

  it('is true for the status commands only, however their text selects the status row', () => {
    for (const [command, text] of [['/golive', 'status'], ['/golive', ''], ['/golive', '  STATUS '], ['/mode', 'status'], ['/mode', '']]) {
      expect(readsStatus(slash(command!, text!)), `${command} "${text}"`).toBe(true);
    }
    for (const [command, text] of [['/golive', 'audit'], ['/golive', 'help'], ['/mode', 'live now'], ['/mode', 'turbo'], ['/kill', 'status'], ['/stats', ''], ['/unknown', 'status']]) {
      expect(readsStatus(slash(command!, text!)), `${command} "${text}"`).toBe(false);
    }
  });

  it('is false for anything that is not a slash command', () => {
    expect(readsStatus({ type: 'event_callback', event: { type: 'app_home_opened' }, event_id: 'E1' })).toBe(false);
    expect(readsStatus({ type: 'block_actions', actions: [{ action_id: 'status' }] })).toBe(false);
  });
});
