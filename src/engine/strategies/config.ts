// Owns the strategy configuration file (config/strategies.json, or STRATEGIES_FILE): its zod schema,
// and reading it with messages that name the file, the field and what is expected. Every strategy
// must carry its limits — position size (% of equity and notional), open positions, minimum
// confidence and minimum 24h volume — so the go-live audit can check them; an enabled one may not
// switch its confidence threshold or its volume filter off (REQUIRED_ENABLED_LIMITS).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Config } from '../../config/env.js';
import { AppError } from '../../errors.js';
import { didYouMean } from '../../suggest-similar.js';
import { projectPath } from '../../paths.js';

const pair = z.string().regex(/^[A-Z0-9]{2,10}\/[A-Z0-9]{2,10}$/, 'expected a pair such as BTC/USD');
const pct = (max: number) => z.number({ error: 'expected a number' }).gt(0, 'expected more than 0').max(max, `expected at most ${max}`);
const count = z.number({ error: 'expected a whole number' }).int('expected a whole number').min(1, 'expected at least 1');

export const strategyLimitsSchema = z.strictObject({
  maxPositionPctOfEquity: pct(100),
  maxNotional: z.number({ error: 'expected a number (quote currency)' }).positive('expected more than 0'),
  maxOpenPositions: count,
  minConfidence: z.number({ error: 'expected a number from 0 to 1' }).min(0, 'expected at least 0').max(1, 'expected at most 1'),
  minVolume24hQuote: z.number({ error: 'expected a number (24h traded value in quote currency)' }).min(0, 'expected at least 0'),
});

const exitsSchema = z.strictObject({
  stopLossPct: pct(100).optional(),
  takeProfitPct: pct(1000).optional(),
}).default({});

const common = {
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,47}$/, 'expected a short lower-case name (letters, digits, - and _)'),
  enabled: z.boolean({ error: 'expected true or false' }).default(true),
  pairs: z.array(pair).min(1, 'expected at least one pair'),
  exits: exitsSchema,
  limits: strategyLimitsSchema,
};

const maCrossover = z.strictObject({
  ...common,
  type: z.literal('ma_crossover'),
  params: z.strictObject({
    fastPeriod: count,
    slowPeriod: count.max(10_000, 'expected at most 10000'),
    fullConfidenceGapPct: pct(100).default(0.2),
    signalWindow: count.default(3),
  }).refine((p) => p.fastPeriod < p.slowPeriod, { message: 'expected fastPeriod smaller than slowPeriod', path: ['fastPeriod'] }),
});

const momentum = z.strictObject({
  ...common,
  type: z.literal('momentum'),
  params: z.strictObject({ lookback: count.max(10_000, 'expected at most 10000'), entryPct: pct(100), exitPct: pct(100) }),
});

/** The fields every type shares: checked on their own when the type is unknown, so those are named too. */
const commonFieldsSchema = z.object(common);

export const strategyDefinitionSchema = z.discriminatedUnion('type', [maCrossover, momentum], {
  error: (issue) => (issue.code === 'invalid_union' ? 'expected type "ma_crossover" or "momentum"' : undefined),
});

/**
 * Limits an enabled strategy may not switch off, though 0 is a valid number for them. One rule: the
 * loader refuses a file breaking it (so the engine never starts on it), and the go-live audit reads
 * strategies through the same loader (risk.strategy_limits). A disabled strategy is not checked.
 */
export const REQUIRED_ENABLED_LIMITS = [
  {
    field: 'minConfidence',
    holds: (l: { minConfidence: number }) => l.minConfidence > 0,
    expected: 'expected more than 0 for an enabled strategy (0 lets every signal trade), e.g. 0.3',
  },
  {
    // A liquidity floor of 0 lets any pair trade however thin its market: the guard silently off.
    field: 'minVolume24hQuote',
    holds: (l: { minVolume24hQuote: number }) => l.minVolume24hQuote > 0,
    expected: 'expected more than 0 for an enabled strategy (0 switches the liquidity floor off: any pair trades however thin), e.g. 1000000 (24h traded value in quote currency)',
  },
] as const;

export const strategiesFileSchema = z.strictObject({
  strategies: z.array(strategyDefinitionSchema).min(1, 'expected at least one strategy'),
}).refine((f) => new Set(f.strategies.map((s) => s.name)).size === f.strategies.length, {
  message: 'expected every strategy name to be unique', path: ['strategies'],
}).superRefine((f, ctx) => {
  f.strategies.forEach((s, i) => {
    if (!s.enabled) return;
    for (const rule of REQUIRED_ENABLED_LIMITS) {
      if (!rule.holds(s.limits)) ctx.addIssue({ code: 'custom', message: rule.expected, path: ['strategies', i, 'limits', rule.field] });
    }
  });
});

export type StrategyDefinition = z.infer<typeof strategyDefinitionSchema>;
export type StrategyLimits = z.infer<typeof strategyLimitsSchema>;
export type StrategiesFile = z.infer<typeof strategiesFileSchema>;

/** The repository's config/strategies.json, wherever ctb is run from. STRATEGIES_FILE is relative to the working directory. */
export const DEFAULT_STRATEGIES_FILE = projectPath('config', 'strategies.json');

export function strategiesPath(config: Pick<Config, 'STRATEGIES_FILE'>): string {
  return config.STRATEGIES_FILE ?? DEFAULT_STRATEGIES_FILE;
}

function fieldPath(path: PropertyKey[], data: unknown): string {
  let out = '';
  let node: unknown = data;
  for (const key of path) {
    if (typeof key === 'number') {
      const name = Array.isArray(node) ? (node[key] as { name?: unknown } | undefined)?.name : undefined;
      out += typeof name === 'string' ? `[${key}:${name}]` : `[${key}]`;
    } else {
      out += out ? `.${String(key)}` : String(key);
    }
    node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return out || '(file)';
}

/** The value at a zod issue's path in the parsed file. */
function valueAt(path: PropertyKey[], data: unknown): unknown {
  let node = data;
  for (const key of path) node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
  return node;
}

/** A mistyped strategy `type`: what was written, and the close one (`, got "ma_crosover" (Did you mean ma_crossover?)`). */
function closeChoice(issue: z.core.$ZodIssue, data: unknown): string {
  const options = (issue as { options?: unknown }).options;
  if (issue.code !== 'invalid_union' || !Array.isArray(options)) return '';
  const value = valueAt(issue.path, data);
  if (typeof value !== 'string') return value === undefined ? ', and the strategy has none' : `, got ${JSON.stringify(value)}`;
  return `, got ${JSON.stringify(value)}${didYouMean(value, options.filter((o): o is string => typeof o === 'string'))}`;
}

const LINE_SHOWN = 80;

/**
 * Where JSON.parse stopped, as an editor shows it — `<line>:<column>: not valid JSON (<why>); line <n>
 * reads: <its text>` — rather than the character offset it reports (Node 20: "… in JSON at position 211").
 */
export function jsonSyntaxProblem(raw: string, err: Error): string {
  const why = err.message.replace(/\s*in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '');
  const at = /at position (\d+)/.exec(err.message);
  const offset = at ? Math.min(Number(at[1]), raw.length) : raw.length; // "Unexpected end of JSON input": at the end
  const before = raw.slice(0, offset).split('\n');
  const line = before.length;
  const column = before.at(-1)!.length + 1;
  const text = (raw.split('\n')[line - 1] ?? '').replace(/\r$/, '');
  const shown = text.length > LINE_SHOWN ? `${text.slice(0, LINE_SHOWN)}…` : text;
  return `${line}:${column}: not valid JSON (${why}); line ${line} reads: ${shown.trim() === '' ? '(an empty line)' : shown}`;
}

/**
 * Issues the schema's parse leaves unsaid once one is found: the shared fields of a strategy whose
 * type is unknown (the union stops at the type), and the limits an enabled strategy may not switch
 * off (the file-wide check runs only on a file that parsed).
 */
function unsaidIssues(data: unknown, said: z.core.$ZodIssue[]): Array<{ path: PropertyKey[]; message: string }> {
  const strategies = (data as { strategies?: unknown } | null)?.strategies;
  if (!Array.isArray(strategies)) return [];
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  strategies.forEach((s: unknown, i) => {
    if (!s || typeof s !== 'object') return;
    const typeUnknown = said.some((issue) => issue.code === 'invalid_union' && issue.path.length === 3 && issue.path[1] === i && issue.path[2] === 'type');
    if (typeUnknown) {
      const common = commonFieldsSchema.safeParse(s);
      if (!common.success) out.push(...common.error.issues.map((issue) => ({ path: ['strategies', i, ...issue.path], message: issue.message })));
    }
    const { enabled, limits } = s as { enabled?: unknown; limits?: Record<string, unknown> };
    if (enabled === false || !limits || typeof limits !== 'object') return;
    for (const rule of REQUIRED_ENABLED_LIMITS) {
      const value = limits[rule.field];
      if (typeof value === 'number' && value >= 0 && !rule.holds({ [rule.field]: value } as never)) {
        out.push({ path: ['strategies', i, 'limits', rule.field], message: rule.expected });
      }
    }
  });
  const key = (path: PropertyKey[]) => path.map(String).join('.');
  const seen = new Set(said.map((issue) => key(issue.path)));
  return out.filter((issue) => !seen.has(key(issue.path)) && seen.add(key(issue.path)));
}

export interface StrategiesInspection {
  file: string;
  ok: boolean;
  problems: string[];
  config: StrategiesFile | null;
  /** The file's JSON as read (null when it could not be read or parsed), for checks beyond the schema's. */
  data: unknown;
  /** The sha256 of the bytes read; null when the file could not be read. */
  sha256: string | null;
}

/** Reads and checks the file without throwing: for the go-live audit. */
export function inspectStrategies(file: string): StrategiesInspection {
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(file));
  } catch (err) {
    return { file, ok: false, problems: [`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); expected a JSON strategies file`], config: null, data: null, sha256: null };
  }
  const raw = bytes.toString('utf8');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    return { file, ok: false, problems: [`${file}:${jsonSyntaxProblem(raw, err as Error)}`], config: null, data: null, sha256 };
  }
  const parsed = strategiesFileSchema.safeParse(data);
  if (!parsed.success) {
    const problems = [
      ...parsed.error.issues.map((i) => `${file}: ${fieldPath(i.path, data)}: ${i.message}${closeChoice(i, data)}`),
      ...unsaidIssues(data, parsed.error.issues).map((i) => `${file}: ${fieldPath(i.path, data)}: ${i.message}`),
    ];
    return { file, ok: false, problems, config: null, data, sha256 };
  }
  return { file, ok: true, problems: [], config: parsed.data, data, sha256 };
}

/** Loads the configured strategies file or throws a config error listing every problem. */
export function loadStrategies(config: Pick<Config, 'STRATEGIES_FILE'>): StrategiesFile {
  return loadStrategiesFile(config).config;
}

/** As loadStrategies, with the file's absolute path and the sha256 of the bytes loaded (the engine records both). */
export function loadStrategiesFile(config: Pick<Config, 'STRATEGIES_FILE'>): { config: StrategiesFile; file: string; sha256: string } {
  const inspection = inspectStrategies(strategiesPath(config));
  if (!inspection.config) {
    throw new AppError('config', 'bad_strategies_file', `Invalid strategies file:\n  - ${inspection.problems.join('\n  - ')}`, {
      hint: 'See config/strategies.json in the repository for the expected shape.',
    });
  }
  return { config: inspection.config, file: resolve(inspection.file), sha256: inspection.sha256! };
}
