// The trading state (active | reducing | halted) as one Slack field value: the state, what it
// means, and who set it, why and when. Shared by /mode status, /golive status and App Home.
import { tradingStateMeaning, type TradingStateInfo } from '../../domain/trading-state.js';
import { actorLabel, slackDate } from './format.js';
import { escapeText } from './message.js';

const ICON = { active: ':large_green_circle:', reducing: ':double_vertical_bar:', halted: ':octagonal_sign:' } as const;

export function tradingStateField(t: TradingStateInfo): string {
  const head = `${ICON[t.state]} *${t.state}* — ${tradingStateMeaning(t)}`;
  if (t.state === 'active') return head;
  const who = [t.by ? `by ${actorLabel(t.by)}` : '', t.at ? slackDate(t.at) : ''].filter(Boolean).join(' ');
  const why = t.reason ? `: ${escapeText(t.reason)}` : '';
  const also = t.state === 'halted' && t.entriesPaused ? '\n_entries also paused: reducing after a resume_' : '';
  return `${head}${who || why ? `\n${t.state === 'halted' ? 'Halted' : 'Paused'} ${who}${why}` : ''}${also}`;
}
