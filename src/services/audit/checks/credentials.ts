// Checklist 1: Kraken keys come from the environment or `.env`; `.env` is untracked, ignored and
// mode 0600 or stricter (or outside any git checkout); no tracked file — of the directory the audit
// runs in, or else of the checkout ctb runs from — holds the configured key or anything shaped like one.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse } from 'dotenv';
import type { Config } from '../../../config/env.js';
import { MIN_MATCHED_SECRET_CHARS, type Secret } from '../../../config/secret.js';
import { PROJECT_ROOT } from '../../../paths.js';
import { isIgnored, isTracked } from '../sources/git.js';
import { defineCheck, type CheckOutcome } from '../types.js';
import { LEAK_SCAN_IGNORE, scanTrackedFiles } from './secret-scan.js';

async function readDotEnv(path: string): Promise<{ vars: Record<string, string>; mode: number } | null> {
  try {
    const [text, info] = await Promise.all([readFile(path), stat(path)]);
    return { vars: parse(text), mode: info.mode & 0o777 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export const credentialsStorageCheck = defineCheck({
  id: 'credentials.storage',
  title: 'Kraken keys from env or .env; .env untracked, ignored, mode 0600',
  checklistSection: 1,
  async run(ctx): Promise<CheckOutcome> {
    const { KRAKEN_API_KEY: key, KRAKEN_API_SECRET: secret } = ctx.config;
    const envPath = join(ctx.cwd, '.env');
    const dotEnv = await readDotEnv(envPath);
    const problems: string[] = [];
    const fixes: string[] = [];
    const details: Record<string, unknown> = { keyConfigured: Boolean(key), secretConfigured: Boolean(secret), dotEnv: dotEnv !== null };

    if (!key || !secret) {
      problems.push(`${!key ? 'KRAKEN_API_KEY' : 'KRAKEN_API_SECRET'} not set`);
      fixes.push('Set KRAKEN_API_KEY and KRAKEN_API_SECRET (a Trade-only key) in the environment or .env.');
    } else {
      const fromFile = dotEnv !== null && key.occursIn(dotEnv.vars['KRAKEN_API_KEY'] ?? '') && secret.occursIn(dotEnv.vars['KRAKEN_API_SECRET'] ?? '');
      details['source'] = fromFile ? '.env' : 'environment';
    }
    if (dotEnv) {
      details['dotEnvMode'] = `0${dotEnv.mode.toString(8)}`;
      if ((dotEnv.mode & 0o077) !== 0) {
        problems.push(`.env mode 0${dotEnv.mode.toString(8)} (readable by others)`);
        fixes.push('chmod 600 .env');
      }
      const [tracked, ignored] = await Promise.all([isTracked(ctx.cwd, '.env'), isIgnored(ctx.cwd, '.env')]);
      details['dotEnvTracked'] = tracked;
      details['dotEnvIgnored'] = ignored;
      if (tracked) {
        problems.push('.env is tracked by git');
        fixes.push('git rm --cached .env, commit, and rotate the key (it is in the history).');
      }
      if (ignored === false) {
        problems.push('.env is not in .gitignore');
        fixes.push('Add .env to .gitignore.');
      }
      if (tracked === null) details['git'] = 'not a git checkout';
    }
    const source = details['source'] ? `keys from ${String(details['source'])}` : 'keys missing';
    if (problems.length > 0) return { status: 'fail', value: `${source}; ${problems.join('; ')}`, fix: fixes.join(' '), details };
    // Outside any git checkout (the README's rehearsal directory beside the checkout) git cannot commit .env.
    const file = dotEnv ? `; .env ${String(details['dotEnvMode'])}${details['git'] ? ', outside any git checkout (nothing can commit it)' : ', untracked, ignored'}` : '; no .env file';
    return { status: 'pass', value: `${source}${file}`, fix: null, details };
  },
});

const SHORT_KEY_FIX = 'Set KRAKEN_API_KEY and KRAKEN_API_SECRET to the Trade-only key Kraken issued (56 and 88 characters), then run the audit again.';

/** The configured Kraken credentials too short to be matched as text (MIN_MATCHED_SECRET_CHARS). */
function tooShortNames(config: Pick<Config, 'KRAKEN_API_KEY' | 'KRAKEN_API_SECRET'>): string[] {
  return (['KRAKEN_API_KEY', 'KRAKEN_API_SECRET'] as const).filter((name) => config[name]?.tooShortToMatch());
}

export const secretScanCheck = defineCheck({
  id: 'credentials.leak_scan',
  title: 'No tracked file contains the key or anything shaped like a Kraken key',
  checklistSection: 1,
  async run(ctx): Promise<CheckOutcome> {
    const secrets: [Secret | undefined, Secret | undefined] = [ctx.config.KRAKEN_API_KEY, ctx.config.KRAKEN_API_SECRET];
    // Run from a directory of its own (the README's rehearsal: .env beside, not in, the checkout), the
    // tracked files to scan are those of the checkout whose code is running.
    let scanned = '';
    let scan = await scanTrackedFiles(ctx.cwd, secrets);
    if (scan === null && resolve(PROJECT_ROOT) !== resolve(ctx.cwd)) {
      scan = await scanTrackedFiles(PROJECT_ROOT, secrets);
      scanned = ` in ${PROJECT_ROOT}, the checkout ctb runs from (${ctx.cwd} is not a git checkout)`;
    }
    if (scan === null) {
      return { status: 'warn', value: 'not a git checkout: tracked files unknown', fix: 'Run the audit from the git checkout of the deployed code.' };
    }
    const tooShort = tooShortNames(ctx.config);
    const details = { filesScanned: scan.filesScanned, findings: scan.findings.slice(0, 50), fixtureFiles: scan.shapesSkipped.length, notSearchedFor: tooShort };
    // Fixture files are still searched for the configured key; only their key-shaped literals are let be.
    const fixtures = scan.shapesSkipped.length > 0 ? ` (${scan.shapesSkipped.length} fixture files listed in ${LEAK_SCAN_IGNORE} checked for the configured key only)` : '';
    const short = tooShort.length > 0
      ? `; ${tooShort.join(' and ')} ${tooShort.length > 1 ? 'are' : 'is'} shorter than ${MIN_MATCHED_SECRET_CHARS} characters, too short to be a Kraken key (56) or secret (88): not searched for as text (logs still mask ${tooShort.length > 1 ? 'them' : 'it'})`
      : '';
    if (scan.findings.length === 0) {
      if (tooShort.length > 0) {
        return { status: 'warn', value: `${scan.filesScanned} tracked files${scanned} clean of key-shaped literals${fixtures}${short}`, fix: SHORT_KEY_FIX, details };
      }
      return { status: 'pass', value: `${scan.filesScanned} tracked files${scanned} clean${fixtures}`, fix: null, details };
    }
    const where = scan.findings.slice(0, 5).map((f) => `${f.file}:${f.line} (${f.kind})`).join(', ');
    const more = scan.findings.length > 5 ? ` and ${scan.findings.length - 5} more` : '';
    return {
      status: 'fail',
      value: `${scan.findings.length} finding(s)${scanned}: ${where}${more}${short}`,
      fix: scan.findings.some((f) => f.kind === 'configured_key' || f.kind === 'configured_secret')
        ? 'The configured Kraken key is in a tracked file: remove it from those files and from git history, then rotate the Kraken key.'
        : `Remove the key-shaped literal from those files (and from git history if it is a real key, then rotate it); a test fixture that is not a key goes in ${LEAK_SCAN_IGNORE}.`,
      details,
    };
  },
});
