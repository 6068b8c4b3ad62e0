// Checklist 3: alerts and pages reach people. Slack answers the token's granted scopes (the
// x-oauth-scopes header of auth.test); this check compares them with the scopes the shipped manifest
// asks for (src/domain/slack-scopes.ts) and fails naming the missing ones: an app installed before the
// manifest asked for a scope keeps its old token until it is reinstalled. Warns when Slack is not
// configured in this process or did not answer.
import { BOT_SCOPES, missingScopes, reinstallHint } from '../../../domain/slack-scopes.js';
import { defineCheck } from '../types.js';

export const slackScopesCheck = defineCheck({
  id: 'slack.scopes',
  title: 'Slack app granted the scopes the manifest asks for',
  checklistSection: 3,
  async run(ctx) {
    const required = [...BOT_SCOPES];
    if (!ctx.slackScopes) {
      return {
        status: 'warn', value: 'Slack is not configured in this process: the bot token\'s scopes were not checked', details: { required },
        fix: 'Run the audit where SLACK_BOT_TOKEN is set (the bot\'s `/golive audit`, or `ctb audit` with the bot\'s environment).',
      };
    }
    const granted = await ctx.slackScopes.granted();
    if (granted.kind === 'unknown') {
      return { status: 'warn', value: `could not read the bot token's scopes (${granted.why})`, fix: 'Run the audit again once Slack answers.', details: { required } };
    }
    const missing = missingScopes(granted.scopes);
    const details = { required, granted: granted.scopes, missing };
    if (missing.length > 0) {
      return { status: 'fail', value: `the bot token lacks ${missing.join(', ')} (granted: ${granted.scopes.join(', ') || 'none'})`, fix: reinstallHint(missing), details };
    }
    return { status: 'pass', value: `the bot token holds all ${required.length} scopes the manifest asks for`, fix: null, details };
  },
});
