// slack/manifest.yaml creates the app in one paste: it must declare exactly the slash commands the
// listener table answers, subscribe to every event the table listens to, ask for the scopes the
// bot's Web API calls need, and send everything to the one endpoint the bot serves.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { listenerTable } from '../../../src/slack/listeners/table.js';
import { DELIVERY_KINDS } from '../../../src/db/schema/alerts.js';
import { BOT_SCOPES } from '../../../src/domain/slack-scopes.js';

/** Every TypeScript file the bot runs (src/ and commands/). */
function sourceFiles(): string[] {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  return ['src', 'commands'].flatMap((dir) =>
    (readdirSync(join(root, dir), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(root, dir, f)));
}

interface Manifest {
  _metadata: { major_version: number };
  display_information: { name: string; description: string };
  features: {
    app_home: { home_tab_enabled: boolean; messages_tab_enabled: boolean; messages_tab_read_only_enabled: boolean };
    bot_user: { display_name: string };
    slash_commands: Array<{ command: string; url: string; description: string; usage_hint?: string; should_escape: boolean }>;
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url: string };
    socket_mode_enabled: boolean;
  };
}

const manifest = parse(readFileSync(new URL('../../../slack/manifest.yaml', import.meta.url), 'utf8')) as Manifest;
const endpoint = /^https:\/\/[^/]+\/slack\/events$/;

describe('slack/manifest.yaml', () => {
  it('declares exactly the slash commands of the listener table', () => {
    const declared = manifest.features.slash_commands.map((c) => c.command).sort();
    const answered = listenerTable.commands.map((r) => r.command).sort();
    expect(declared).toEqual(answered);
  });

  it('hints every subcommand word of each command, and fits Slack\'s limits', () => {
    for (const row of listenerTable.commands) {
      const c = manifest.features.slash_commands.find((x) => x.command === row.command)!;
      for (const sub of row.subcommands) if (sub.name) expect(c.usage_hint, `${row.command} ${sub.name}`).toContain(sub.name);
      expect(c.description.length).toBeLessThanOrEqual(100);
      expect((c.usage_hint ?? '').length).toBeLessThanOrEqual(100);
      // Escaped text turns @mentions into <@U…> ids, which /oncall override reads.
      expect(c.should_escape).toBe(true);
    }
  });

  it('subscribes to every event the table listens to, and the App Home tab is on', () => {
    const events = manifest.settings.event_subscriptions.bot_events;
    for (const row of listenerTable.events) expect(events).toContain(row.event);
    expect(events).toEqual(expect.arrayContaining(['app_home_opened', 'reaction_added', 'reaction_removed']));
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  });

  it('asks for exactly the scopes of the Web API methods the code calls and the events it takes', () => {
    // Every method the bot calls must be listed here with the bot scope Slack documents for it, so a
    // new call without its scope (or a scope nothing uses) fails this test.
    // conversations.history reads a DM (a page's, im:history) and the alerts channel (a direct alert's:
    // channels:history when it is public, groups:history when it is private); conversations.replies
    // reads a closed request's thread in the ops channel (channels:history or groups:history).
    const METHOD_SCOPES: Record<string, string | string[] | null> = {
      'chat.postMessage': 'chat:write', 'chat.postEphemeral': 'chat:write', 'chat.update': 'chat:write',
      'users.info': 'users:read', 'conversations.history': ['im:history', 'channels:history', 'groups:history'],
      'conversations.replies': ['channels:history', 'groups:history'], 'views.publish': null, 'auth.test': null, filesUploadV2: 'files:write',
    };
    const EVENT_SCOPES: Record<string, string | null> = { app_home_opened: null, reaction_added: 'reactions:read', reaction_removed: 'reactions:read' };
    const called = new Set<string>();
    for (const file of sourceFiles()) {
      const text = readFileSync(file, 'utf8');
      // A Web API call is made on a WebClient: `client.`, `web.` or `api().`.
      for (const m of text.matchAll(/\b(?:client|web|api\(\))\.(chat|users|views|files|reactions|conversations|im|pins|bookmarks|team|auth|apps)\.(\w+)\(/g)) called.add(`${m[1]}.${m[2]}`);
      for (const m of text.matchAll(/\b(?:client|web|api\(\))\.(filesUploadV2)\(/g)) called.add(m[1]!);
    }
    expect(called).toContain('chat.postMessage'); // the scan sees the calls
    for (const method of called) expect(METHOD_SCOPES, `${method} is called: add it with its scope`).toHaveProperty([method]);
    const needed = new Set(['commands', ...[...called].flatMap((m) => METHOD_SCOPES[m]), ...manifest.settings.event_subscriptions.bot_events.map((e) => EVENT_SCOPES[e])]
      .filter((s): s is string => typeof s === 'string'));
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
    expect(manifest.oauth_config.scopes.bot).not.toContain('im:write');
  });

  it('asks for the scopes the audit and the bot\'s start check the token for (src/domain/slack-scopes.ts)', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...BOT_SCOPES].sort());
  });

  it('turns the Messages tab on, read-only, because pages go out by direct message', () => {
    expect(DELIVERY_KINDS).toContain('slack_dm');
    expect(manifest.features.app_home).toMatchObject({ messages_tab_enabled: true, messages_tab_read_only_enabled: true });
  });

  it('sends commands, events and interactivity to POST /slack/events, over HTTP by default', () => {
    for (const c of manifest.features.slash_commands) expect(c.url).toMatch(endpoint);
    expect(manifest.settings.event_subscriptions.request_url).toMatch(endpoint);
    expect(manifest.settings.interactivity).toMatchObject({ is_enabled: true, request_url: expect.stringMatching(endpoint) });
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });
});
