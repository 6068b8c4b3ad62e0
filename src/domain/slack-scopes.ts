// Owns which bot token scopes the bot needs: the ones the shipped Slack app manifest
// (slack/manifest.yaml, oauth_config.scopes.bot) asks for, in one list the go-live audit
// (slack.scopes) and the bot's start compare the token's granted scopes with. An app installed before
// the manifest asked for a scope keeps its old token until someone reinstalls it: Slack never adds a
// scope by itself. tests/unit/slack/manifest.test.ts fails when this list and the manifest disagree.

/** The manifest's bot scopes. */
export const BOT_SCOPES: readonly string[] = [
  'commands', 'chat:write', 'files:write', 'im:history', 'channels:history', 'groups:history', 'users:read', 'reactions:read',
];

/**
 * What Slack says the token was granted (the `x-oauth-scopes` header of any Web API answer), or why it
 * could not be read (Slack unreachable, the token refused, no header).
 */
export type GrantedScopes = { kind: 'known'; scopes: string[] } | { kind: 'unknown'; why: string };

/** Asks Slack which scopes the bot token holds. Answered by src/slack (auth.test). */
export interface SlackTokenScopes {
  granted(): Promise<GrantedScopes>;
}

/** The manifest's scopes the token lacks, in the manifest's order. */
export function missingScopes(granted: readonly string[]): string[] {
  const held = new Set(granted);
  return BOT_SCOPES.filter((s) => !held.has(s));
}

/** What to do about missing scopes, in one sentence an operator reads (never the token). */
export function reinstallHint(missing: readonly string[]): string {
  return `The Slack app's token lacks ${missing.join(', ')}: reinstall the app (api.slack.com/apps → your app → OAuth & Permissions → Reinstall to Workspace) so it is granted every scope slack/manifest.yaml asks for.`;
}
