// Owns asking Slack whether a member id is a person who can be paged (users.info), for the on-call
// commands (src/services/oncall/user-directory.ts).
import type { Config } from '../config/env.js';
import type { UserDirectory, UserLookup } from '../services/oncall/user-directory.js';
import { isSlackTimeout, slackTimeoutMessage, slackWebClient } from './web-client.js';

const GONE = new Set(['user_not_found', 'users_not_found', 'account_inactive', 'user_disabled', 'user_not_visible']);

export function slackUserDirectory(config: Config): UserDirectory {
  return {
    async lookup(userId: string): Promise<UserLookup> {
      try {
        const res = await slackWebClient(config).users.info({ user: userId });
        const user = res.user as { deleted?: boolean; is_bot?: boolean } | undefined;
        if (user?.deleted) return { kind: 'missing', why: 'deactivated' };
        if (user?.is_bot) return { kind: 'missing', why: 'a bot, not a person' };
        return { kind: 'person' };
      } catch (err) {
        const code = (err as { data?: { error?: string } }).data?.error;
        if (code && GONE.has(code)) return { kind: 'missing', why: code };
        if (isSlackTimeout(err)) return { kind: 'unknown', why: slackTimeoutMessage(config) };
        return { kind: 'unknown', why: code ?? (err as Error)?.message ?? String(err) };
      }
    },
  };
}
