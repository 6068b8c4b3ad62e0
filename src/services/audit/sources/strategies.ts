// Owns reading the strategy configuration for the audit. The engine owns the file's schema
// (src/engine/strategies/config.ts: inspectStrategies); until that module is on main this reads the
// same file (STRATEGIES_FILE or config/strategies.json) for the fields the audit needs and nothing
// else. Swap the body for `inspectStrategies(path)` when the engine lands — the shape is the same.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Config } from '../../../config/env.js';

export interface AuditedStrategy {
  name: string;
  enabled: boolean;
  limits?: Record<string, unknown>;
}

export interface StrategiesForAudit {
  file: string;
  problems: string[];
  strategies: AuditedStrategy[] | null;
}

export async function readStrategiesForAudit(config: Pick<Config, 'STRATEGIES_FILE'>, cwd: string): Promise<StrategiesForAudit> {
  const file = config.STRATEGIES_FILE ?? 'config/strategies.json';
  const path = isAbsolute(file) ? file : join(cwd, file);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? `not valid JSON (${err.message})` : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    return { file, problems: [`${file}: ${why}`], strategies: null };
  }
  const list = (data as { strategies?: unknown } | null)?.strategies;
  if (!Array.isArray(list)) return { file, problems: [`${file}: expected {"strategies": [...]}`], strategies: null };
  const strategies = list.map((s, i) => {
    const o = (s ?? {}) as Record<string, unknown>;
    return {
      name: typeof o['name'] === 'string' ? o['name'] : `#${i}`,
      enabled: o['enabled'] !== false,
      ...(o['limits'] && typeof o['limits'] === 'object' ? { limits: o['limits'] as Record<string, unknown> } : {}),
    };
  });
  return { file, problems: [], strategies };
}
