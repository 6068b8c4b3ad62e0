// Owns reading which scopes the bot token holds: Slack names them in the `x-oauth-scopes` header of
// any Web API answer, which the Web API client hands back as response_metadata.scopes. auth.test is
// asked (it needs no scope of its own), for the go-live audit (slack.scopes) and the bot's start.
import type { WebAPICallResult } from '@slack/web-api';
import type { Config } from '../config/env.js';
import type { GrantedScopes, SlackTokenScopes } from '../domain/slack-scopes.js';
import { isSlackTimeout, slackTimeoutMessage, slackWebClient } from './web-client.js';

/** The scopes named in one Web API answer; unknown when Slack sent no x-oauth-scopes header. */
export function scopesOf(res: WebAPICallResult): GrantedScopes {
  const scopes = res.response_metadata?.scopes;
  if (!scopes) return { kind: 'unknown', why: 'Slack named no scopes (no x-oauth-scopes header in its answer)' };
  return { kind: 'known', scopes: scopes.filter((s) => s.length > 0) };
}

export function slackTokenScopes(config: Config): SlackTokenScopes {
  return {
    async granted(): Promise<GrantedScopes> {
      try {
        return scopesOf(await slackWebClient(config).auth.test());
      } catch (err) {
        if (isSlackTimeout(err)) return { kind: 'unknown', why: `auth.test ${slackTimeoutMessage(config)}` };
        const code = (err as { data?: { error?: string } }).data?.error;
        return { kind: 'unknown', why: `auth.test failed: ${code ?? (err as Error)?.message ?? String(err)}` };
      }
    },
  };
}
