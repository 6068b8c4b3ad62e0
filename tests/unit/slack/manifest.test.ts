// slack/manifest.yaml creates the app in one paste: it must declare exactly the slash commands the
// listener table answers, subscribe to every event the table listens to, ask for the scopes the
// bot's Web API calls need, and send everything to the one endpoint the bot serves.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { listenerTable } from '../../../src/slack/listeners/table.js';

interface Manifest {
  _metadata: { major_version: number };
  display_information: { name: string; description: string };
  features: {
    app_home: { home_tab_enabled: boolean };
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

  it('asks for the scopes the bot uses', () => {
    expect(manifest.oauth_config.scopes.bot).toEqual(
      expect.arrayContaining(['commands', 'chat:write', 'files:write', 'im:write', 'users:read', 'reactions:read']),
    );
  });

  it('sends commands, events and interactivity to POST /slack/events, over HTTP by default', () => {
    for (const c of manifest.features.slash_commands) expect(c.url).toMatch(endpoint);
    expect(manifest.settings.event_subscriptions.request_url).toMatch(endpoint);
    expect(manifest.settings.interactivity).toMatchObject({ is_enabled: true, request_url: expect.stringMatching(endpoint) });
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });
});
