// Owns the check of the variables' names: a setting spelt wrong is not set, and its default stays in
// force without a word (`RISK_MAX_DRAWDOWN=5` leaves the drawdown limit at 10 %). Every name in .env
// must be a setting (.env.example lists them): another is named with its file:line and the setting
// it is closest to. The process environment holds many variables that are none of ours, so there
// only a near-miss of one of our names is named, and only when it starts as that name does
// (IS_LVE for IS_LIVE; never HOME for HOST).
//
// A near-miss of a safety setting (arming, risk limits, the kill, the go-live gate, paging) is a
// configuration error, exit 2 like a bad value of that setting, in paper as in live: paper is the
// rehearsal of live under the limits the operator believes are set, and `IS_LVE=true` asked for live.
// Only the kill goes on past it (it reads the configuration its own way: src/config/salvage.ts).
import { similarWords } from '../suggest-similar.js';
import { envSchema } from './env.js';

export const SETTING_NAMES: readonly string[] = Object.keys(envSchema.shape);

/** Settings whose default, left in force by a misspelt name, trades or pages otherwise than the operator wrote. */
const SAFETY = /^(IS_LIVE|AUTO_KILL|CAPITAL_RESERVE_PCT|KRAKEN_RATE_LIMIT|PAPER_STARTING_BALANCE)$|^(RISK|KILL|DEAD_MAN|GOLIVE|ESCALATION)_/;

export function isSafetySetting(name: string): boolean {
  return SAFETY.test(name);
}

export interface SettingNameFindings {
  /** Names that are not settings: each ignored, said once. */
  warnings: string[];
  /** Near-misses of a safety setting that is not set under its own name: the configuration is refused. */
  problems: string[];
}

export interface EnvFileNames {
  file: string;
  vars: Record<string, string>;
  lineOf: Record<string, number>;
}

/**
 * The settings `name` is closest to: by spelling (suggest-similar), else the settings it is the
 * leading words of, or that it adds words to (RISK_MAX_DRAWDOWN for RISK_MAX_DRAWDOWN_PCT).
 */
function closeSettings(name: string): string[] {
  const close = similarWords(name, SETTING_NAMES);
  if (close.length > 0 || !name.includes('_')) return close;
  const upper = name.toUpperCase();
  return SETTING_NAMES.filter((s) => s.startsWith(`${upper}_`) || upper.startsWith(`${s}_`));
}

const meant = (close: string[]) => (close.length === 1 ? ` (Did you mean ${close[0]}?)` : ` (Did you mean one of ${close.join(', ')}?)`);

const firstWord = (name: string) => name.split('_')[0]!.toUpperCase();
const OUR_FIRST_WORDS = new Set(SETTING_NAMES.filter((n) => n.includes('_')).map(firstWord));

/** Judges the names of `.env` (every one) and of the environment (near-misses of ours only). */
export function checkSettingNames(envFile: EnvFileNames | undefined, env: Record<string, string | undefined>): SettingNameFindings {
  const known = new Set(SETTING_NAMES);
  const set = (name: string) => (env[name] ?? envFile?.vars[name] ?? '').trim() !== '';
  const findings: SettingNameFindings = { warnings: [], problems: [] };
  const judge = (name: string, where: string, strict: boolean) => {
    if (known.has(name)) return;
    const close = closeSettings(name);
    if (close.length === 0) {
      if (strict) findings.warnings.push(`${where}: ${name} is not a setting of this bot: ignored (.env.example lists every setting)`);
      return;
    }
    const unset = close.filter((c) => isSafetySetting(c) && !set(c));
    if (unset.length > 0) {
      const them = unset.length === 1 ? `${unset[0]} would stay at its default` : `${unset.join(', ')} would stay at their defaults`;
      findings.problems.push(`${where}: ${name} is not a setting${meant(close)}; refused because ${them}, not what ${name} asks for: correct the name or remove it`);
    } else {
      findings.warnings.push(`${where}: ${name} is not a setting of this bot: ignored${meant(close)}`);
    }
  };
  if (envFile) {
    for (const name of Object.keys(envFile.vars)) {
      // A variable the environment also sets is the environment's (it wins over .env): judged below.
      if (env[name] === undefined) judge(name, `${envFile.file}:${envFile.lineOf[name]}`, true);
    }
  }
  for (const name of Object.keys(env)) {
    if (name.includes('_') && OUR_FIRST_WORDS.has(firstWord(name))) judge(name, 'environment', false);
  }
  return findings;
}
