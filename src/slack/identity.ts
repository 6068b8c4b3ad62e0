// Learns who the bot is with one auth.test at start (against SLACK_API_URL). Why not two more
// variables (bot id, bot user id)? auth.test also proves the token works, so a wrong or revoked
// token stops the start with a clear message instead of failing at the first slash command, and
// there is nothing to keep in sync when the app is reinstalled. Bolt's own token check is off
// (tokenVerificationEnabled: false) because it would call auth.test again on every construction.
// Its answer also names the token's scopes: one the manifest asks for and the token lacks (an app
// installed before the manifest asked for it) is warned about here, naming the scopes and the reinstall.
// A bot stopped while auth.test was in flight has said "stopped": a late answer is logged at debug
// only, neither "connected" nor "failed", and a rejected token no longer ends a start that is over.
import type { Config } from '../config/env.js';
import { missingScopes, reinstallHint } from '../domain/slack-scopes.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { scopesOf } from './token-scopes.js';
import { slackWebClient } from './web-client.js';

export interface BotIdentity {
  botId?: string | undefined;
  botUserId?: string | undefined;
  teamId?: string | undefined;
}

const TOKEN_PROBLEMS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'not_allowed_token_type']);

export async function resolveBotIdentity(config: Config, logger: Logger, stop?: AbortSignal): Promise<BotIdentity> {
  const client = slackWebClient(config);
  try {
    const res = await client.auth.test();
    const identity = { botId: res.bot_id, botUserId: res.user_id, teamId: res.team_id };
    if (stop?.aborted) {
      logger.debug({ slack: identity }, 'Slack: auth.test answered after the stop');
      return identity;
    }
    logger.info({ slack: identity }, `Slack: connected as ${res.user ?? res.user_id ?? 'the bot'} in ${res.team ?? res.team_id ?? 'the workspace'}`);
    const granted = scopesOf(res);
    const missing = granted.kind === 'known' ? missingScopes(granted.scopes) : [];
    if (missing.length > 0) logger.warn({ missingScopes: missing }, `Slack: ${reinstallHint(missing)}`);
    return identity;
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (stop?.aborted) {
      logger.debug({ err: (err as Error).message }, 'Slack: auth.test failed after the stop');
      return {};
    }
    if (code && TOKEN_PROBLEMS.has(code)) {
      throw new AppError('config', 'slack_token_rejected', `Slack rejected SLACK_BOT_TOKEN (${code}).`, {
        hint: 'Copy the Bot User OAuth Token (xoxb-…) from the app\'s "OAuth & Permissions" page; see docs/slack.md.',
      });
    }
    // Slack unreachable: trading and the CLI must not depend on it. Replies fail until it is back.
    logger.error({ err: (err as Error).message }, 'Slack: auth.test failed; starting without the bot identity (the bot may react to its own events)');
    return {};
  }
}
