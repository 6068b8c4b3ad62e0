// Owns who is who in the Slack stand-in's workspace, shared by its server and the people it acts as:
// one team, one bot user, and what a person's or a channel's id looks like (Slack's own forms).

export const STAND_IN = {
  teamId: 'T0STANDIN',
  teamDomain: 'ctb-rehearsal',
  appId: 'A0STANDIN',
  botId: 'B0STANDIN',
  botUserId: 'U0STANDBOT',
  /** The channel a command is typed in when neither --channel nor SLACK_OPS_CHANNEL names one. */
  defaultChannel: 'C0STANDOPS',
} as const;

/** A Slack member id: U or W, then capitals and digits (U012AB3CD). */
export const USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** A conversation id: a public (C), private (G) or direct (D) channel. */
export const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

/** Whether `url` names this machine (the only place the stand-in and its people ever talk to). */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
