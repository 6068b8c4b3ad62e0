// Small formatting helpers shared by the views: Slack date tokens (shown in each reader's time
// zone, with an ISO fallback), and user mentions.
export function slackDate(at: Date): string {
  const unix = Math.floor(at.getTime() / 1000);
  return `<!date^${unix}^{date_short_pretty} {time}|${at.toISOString()}>`;
}

/** Mentions Slack users by id; terminal and job actors (`cli:ops`, `system:risk`) are shown as code. */
export function actorLabel(actor: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(actor) ? `<@${actor}>` : `\`${actor}\``;
}
