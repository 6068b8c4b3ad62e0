// The import boundaries (.dependency-cruiser.cjs) hold on the real tree, every listed exception is
// still real (a fixed one must leave the list, so it only gets shorter), and the rules do catch a
// forbidden import: a small tree with one of each is cruised and every one is reported. Both trees are
// cruised by one dependency-cruiser process (tests/support/cruise-child.ts), each from its own directory,
// which gives a tree's last result again while nothing it was a function of has changed
// (tests/support/cruise-cache.ts, whose key is checked last here).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { childScript } from '../support/children.js';
import { cacheable, cruiseCacheKey, outsideFiles } from '../support/cruise-cache.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
/** Where the cruise process keeps each tree's last result (gitignored, as the helper builds beside it). */
const CRUISE_CACHE = join(ROOT, '.test-build', 'boundaries');

type Edge = [from: string, to: string, why: string];
const { exceptions } = createRequire(import.meta.url)(CONFIG) as {
  exceptions: { TRANSPORT_EXCEPTIONS: Edge[]; UPWARD_EXCEPTIONS: Edge[]; ALERTS_TO_SLACK_EXCEPTIONS: Edge[]; SLACK_OUTSIDE_SLACK_EXCEPTIONS: Edge[]; KNOWN_TYPE_CYCLES: string[][] };
};

interface Violation { rule: { name: string }; from: string; to: string; cycle?: Array<{ name: string }> }
interface Cruise {
  summary: { violations: Violation[] };
  modules: Array<{ source: string; dependencies: Array<{ resolved: string; module: string; dependencyTypes: string[] }> }>;
}

/**
 * Node's flag for the dependency-cruiser process; its output is the same without it. The process
 * imports TypeScript's 9 MB CommonJS file from an ES module (dependency-cruiser's own import()), and
 * with module-syntax detection on (Node 20.19's default for a .js file whose package names no "type")
 * Node first compiles the whole file to see whether it is an ES module, before it lexes and runs it
 * as the CommonJS it is. Measured importing typescript so, 10 runs each under load: 1.18 CPU-s with
 * detection, 0.97 without.
 */
const CRUISE_NODE_FLAGS = ['--no-experimental-detect-module'];

/** Each job cruised with CONFIG from its directory, in one dependency-cruiser process. */
async function cruise(jobs: Array<{ cwd: string; dirs: string[] }>): Promise<Cruise[]> {
  const out = await promisify(execFile)(process.execPath, [...CRUISE_NODE_FLAGS, childScript('cruise-child'), CONFIG, JSON.stringify(jobs), CRUISE_CACHE], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 })
    .catch((err: { stderr?: string }) => {
      throw new Error(`dependency-cruiser failed: ${err.stderr ?? String(err)}`);
    });
  return JSON.parse(out.stdout) as Cruise[];
}

const describeViolation = (v: Violation) => `${v.rule.name}: ${v.from} → ${v.cycle?.length ? v.cycle.map((c) => c.name).join(' → ') : v.to}`;

/** A small tree with one of each forbidden import (and the allowed ones beside them), in `dir`. */
function writeForbiddenTree(dir: string): void {
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const files: Record<string, string> = {
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true }, include: ['src', 'commands'] }),
    'src/services/thing.ts': 'export type Thing = { n: number };\nexport const thing = (): Thing => ({ n: 1 });\n',
    'commands/thing.ts': "import { thing } from '../src/services/thing.js';\nexport const thingCommand = () => thing();\n",
    // Allowed: through commands/, and a type-only import of a service's result shape.
    'src/slack/through-commands.ts': "import { thingCommand } from '../../commands/thing.js';\nimport type { Thing } from '../services/thing.js';\nexport const a = (): Thing => thingCommand();\n",
    // Forbidden: a transport reaching past the door.
    'src/cli/skips-the-door.ts': "import { thing } from '../services/thing.js';\nexport const b = thing();\n",
    // Forbidden: one transport borrowing another's code (Slack rendering with the terminal's helpers).
    'src/cli/render-thing.ts': 'export const shown = (v: string) => v;\n',
    'src/slack/borrows-the-terminal.ts': "import { shown } from '../cli/render-thing.js';\nexport const j = shown('1');\n",
    'src/alerts/own-client.ts': "import { WebClient } from '@slack/web-api';\nexport const c = WebClient;\n",
    'src/engine/own-ccxt.ts': "import ccxt from 'ccxt';\nexport const d = ccxt;\n",
    'src/services/ping.ts': "import { pong } from './pong.js';\nexport const ping = () => pong;\n",
    'src/services/pong.ts': "import { ping } from './ping.js';\nexport const pong = () => ping;\n",
    'src/services/left.ts': "import type { Right } from './right.js';\nexport type Left = { r?: Right };\n",
    'src/services/right.ts': "import type { Left } from './left.js';\nexport type Right = { l?: Left };\n",
    // The domain room is pure: no service, no I/O.
    'src/domain/calls-a-service.ts': "import { thing } from '../services/thing.js';\nexport const e = thing;\n",
    'src/domain/reads-disk.ts': "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n",
    // The simulator is a stand-in for Kraken, not part of the bot: neither imports the other.
    'src/simulator/sim.ts': "import { thing } from '../services/thing.js';\nexport const sim = thing;\n",
    'src/engine/own-simulator.ts': "import { sim } from '../simulator/sim.js';\nexport const g = sim;\n",
    // The Slack stand-in likewise: the bot reaches it over HTTP as it reaches Slack.
    'src/slack-simulator/stand-in.ts': "import { thing } from '../services/thing.js';\nexport const standIn = thing;\n",
    'src/slack/own-stand-in.ts': "import { standIn } from '../slack-simulator/stand-in.js';\nexport const k = standIn;\n",
    // A service names what it needs, not the whole context, and never reaches up to the door or a transport.
    'src/app/context.ts': 'export interface AppContext { n: number }\n',
    'src/services/takes-the-context.ts': "import type { AppContext } from '../app/context.js';\nexport const h = (ctx: AppContext) => ctx.n;\n",
    'src/engine/calls-a-command.ts': "import { thingCommand } from '../../commands/thing.js';\nexport const i = thingCommand;\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

describe('import boundaries', () => {
  const tmp: string[] = [];
  afterAll(() => {
    for (const d of tmp) rmSync(d, { recursive: true, force: true });
  });
  // The real tree and the small one, cruised by one process that the first test starts.
  let cruised: Promise<[real: Cruise, forbidden: Cruise]> | undefined;
  const cruises = () => {
    if (cruised) return cruised;
    const fixture = mkdtempSync(join(tmpdir(), 'ctb-boundaries-'));
    tmp.push(fixture);
    writeForbiddenTree(fixture);
    cruised = cruise([{ cwd: ROOT, dirs: ['src', 'commands', 'bin'] }, { cwd: fixture, dirs: ['src', 'commands'] }]) as Promise<[Cruise, Cruise]>;
    return cruised;
  };

  it('hold on src/, commands/ and bin/, and every listed exception is still an import (delete the ones that are gone)', async () => {
    const [result] = await cruises();
    expect(result.summary.violations.map(describeViolation)).toEqual([]);

    const edges = new Set(result.modules.flatMap((m) => m.dependencies
      .filter((d) => !d.dependencyTypes.includes('type-only'))
      .flatMap((d) => [`${m.source} -> ${d.resolved}`, `${m.source} -> ${d.module}`])));
    // The upward rule counts type imports too (naming AppContext is knowing it).
    const anyEdges = new Set(result.modules.flatMap((m) => m.dependencies.flatMap((d) => [`${m.source} -> ${d.resolved}`, `${m.source} -> ${d.module}`])));
    const listed = [...exceptions.TRANSPORT_EXCEPTIONS, ...exceptions.ALERTS_TO_SLACK_EXCEPTIONS, ...exceptions.SLACK_OUTSIDE_SLACK_EXCEPTIONS, ...exceptions.UPWARD_EXCEPTIONS];
    const upward = new Set(exceptions.UPWARD_EXCEPTIONS);
    const stale = listed.filter((e) => !(upward.has(e) ? anyEdges : edges).has(`${e[0]} -> ${e[1]}`)).map(([from, to]) => `${from} -> ${to}`);
    expect(stale, 'listed exceptions no longer imported: remove them from .dependency-cruiser.cjs').toEqual([]);
    const unexplained = listed.filter(([, , why]) => !why?.trim()).map(([from, to]) => `${from} -> ${to}`);
    expect(unexplained, 'every listed exception says why it is one').toEqual([]);
    const modules = new Set(result.modules.map((m) => m.source));
    const missing = exceptions.KNOWN_TYPE_CYCLES.flat().filter((p) => !p.includes('[') && !modules.has(p));
    expect(missing, 'modules of known type cycles that no longer exist').toEqual([]);
  }, 180_000);

  it('report a transport reaching a service, a service reaching up (the whole context included), alerts importing Slack, ccxt outside src/exchange, an impure domain module, the bot and the simulator importing each other, one transport importing another, and cycles', async () => {
    const [, forbidden] = await cruises();
    const found = forbidden.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, '$1')}`);
    expect([...new Set(found)].sort()).toEqual([
      'alerts-without-slack: src/alerts/own-client.ts → @slack/web-api',
      'bot-without-simulator: src/engine/own-simulator.ts → src/simulator/sim.ts',
      'bot-without-simulator: src/slack/own-stand-in.ts → src/slack-simulator/stand-in.ts',
      'ccxt-only-in-src-exchange: src/engine/own-ccxt.ts → ccxt',
      'domain-is-pure: src/domain/calls-a-service.ts → src/services/thing.ts',
      'domain-without-io: src/domain/reads-disk.ts → fs',
      // Each cycle once: the type-only one only under the rule that counts type imports.
      'no-cycles: src/services/left.ts → src/services/right.ts',
      'no-cycles: src/services/ping.ts → src/services/pong.ts',
      'no-value-cycles: src/services/ping.ts → src/services/pong.ts',
      'services-not-up: src/engine/calls-a-command.ts → commands/thing.ts',
      'services-not-up: src/services/takes-the-context.ts → src/app/context.ts',
      'simulator-without-the-bot: src/simulator/sim.ts → src/services/thing.ts',
      'simulator-without-the-bot: src/slack-simulator/stand-in.ts → src/services/thing.ts',
      'slack-only-in-src-slack: src/alerts/own-client.ts → @slack/web-api',
      'transports-apart: src/slack/borrows-the-terminal.ts → src/cli/render-thing.ts',
      'transports-through-commands: src/cli/skips-the-door.ts → src/services/thing.ts',
    ]);
  }, 180_000);

  it('are cruised again when the config, the cruising process, a file under a cruised directory or an imported file outside them changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-boundaries-key-'));
    tmp.push(dir);
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    write('.dependency-cruiser.cjs', 'module.exports = { forbidden: [] };\n');
    write('tsconfig.json', '{}\n');
    write('cruise-child.mjs', '// v1\n');
    write('src/a.ts', "import { b } from '../lib/b.js';\nexport const a = b;\n");
    write('lib/b.ts', 'export const b = 1;\n');
    write('other/c.ts', 'export const c = 1;\n');
    const job = { cwd: dir, dirs: ['src'] };
    const config = join(dir, '.dependency-cruiser.cjs');
    const cruiser = { script: join(dir, 'cruise-child.mjs'), versions: ['v20'] };
    const result = {
      modules: [
        { source: 'src/a.ts', dependencies: [{}] },
        { source: 'lib/b.ts', dependencies: [] },
        { source: 'fs', coreModule: true, dependencies: [] },
        { source: 'node_modules/ccxt/js/ccxt.js', dependencies: [] },
      ],
    };
    const outside = outsideFiles(result, job);
    expect(outside).toEqual(['lib/b.ts']);
    const key = () => cruiseCacheKey(config, job, outside, cruiser);
    const first = key();
    expect(key()).toBe(first);
    // Unchanged: a file neither under src/ nor imported.
    write('other/c.ts', 'export const c = 2;\n');
    expect(key()).toBe(first);
    const changes: Array<[string, () => void]> = [
      ['a cruised file', () => write('src/a.ts', "import { b } from '../lib/b.js';\nimport 'node:fs';\nexport const a = b;\n")],
      ['a file added under src/', () => write('src/d.ts', 'export {};\n')],
      ['a file gone from src/', () => unlinkSync(join(dir, 'src/a.ts'))],
      ['an imported file outside src/', () => write('lib/b.ts', 'export const b = 2;\n')],
      // `../lib/b.js` resolves to b.js before b.ts: a file added beside an imported one.
      ['a file added beside an imported file outside src/', () => write('lib/b.js', 'export const b = 3;\n')],
      ['the rules', () => write('.dependency-cruiser.cjs', "module.exports = { forbidden: [{ name: 'x', from: {}, to: { path: 'lib' } }] };\n")],
      ['the tsconfig', () => write('tsconfig.json', '{ "compilerOptions": { "strict": true } }\n')],
      ['the lockfile', () => write('package-lock.json', '{}\n')],
      ['the cruising process', () => write('cruise-child.mjs', '// v2\n')],
    ];
    const keys = new Set([first]);
    for (const [what, change] of changes) {
      change();
      const now = key();
      expect(keys.has(now), what).toBe(false);
      keys.add(now);
    }
    expect(cruiseCacheKey(config, job, outside, { ...cruiser, versions: ['v22'] })).not.toBe(key());
    // A cruise with an import it could not resolve is never kept: the file might appear later.
    expect(cacheable(result)).toBe(true);
    expect(cacheable({ modules: [{ source: 'src/a.ts', dependencies: [{ couldNotResolve: true }] }] })).toBe(false);
  });
});
