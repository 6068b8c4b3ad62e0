// Owns how the embedded PGlite is started so that it fits a small machine: PostgreSQL's memory
// settings sized for one bot's data, and a fresh data directory initialised in a child process.
// PGlite's initdb runs a second PostgreSQL instance in memory (its heap snapshotted and copied, the
// new cluster tarred and unpacked), ~500 MB that the main thread would keep until V8 happened to
// collect it (seen: 816–864 MiB RSS after a fresh start, 938 MiB after 60 s of the demo). A child
// process's memory is returned when it exits; this process then opens the initialised directory.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// node:child_process and node:v8 taken where they are used: every command on PostgreSQL loads this
// module too (db/client.ts), and neither is needed there (`ctb stats` compiled both at start-up).
const setFlagsFromString = (flag: string): void => process.getBuiltinModule('node:v8').setFlagsFromString(flag);

/**
 * Added to PGlite's own start parameters (which it needs: --single, search_path, no parallel workers).
 * shared_buffers: PostgreSQL's default here is 128 MB, all of it touched and resident in the wasm heap;
 * the bot's working set (a year of replayed orders, fills, trades, snapshots) fits in 16 MB, and the
 * operating system's page cache sits behind it. maintenance_work_mem only serves index builds in
 * migrations on small tables. work_mem stays at its 4 MB default (sorts in stats queries).
 * PAPER_COMMIT_SETTING on: paper statements commit durably here, as PGlite has no WAL writer to flush
 * an asynchronous commit before a kill -9 takes the bot and its database (db/async-commit.ts).
 */
/** The server setting that, when set, names the synchronous_commit of paper statements (db/async-commit.ts; unset: off). */
export const PAPER_COMMIT_SETTING = 'ctb.paper_synchronous_commit';

export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
  maintenance_work_mem: '16MB',
  [PAPER_COMMIT_SETTING]: 'on',
};

export async function pgliteStartParams(): Promise<string[]> {
  const { PGlite } = await import('@electric-sql/pglite');
  // defaultStartParams is public on the class but missing from its type declarations.
  const defaults = (PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams ?? [];
  return [...defaults, ...Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
}

/**
 * V8's flag for a process that runs PGlite for one command and exits: its WebAssembly compiled by
 * the baseline compiler (Liftoff) only. By default V8 compiles each function with Liftoff when it is
 * first called and recompiles the hot ones with its optimising compiler (TurboFan) on background
 * threads; starting PostgreSQL makes hundreds of them hot, so a command that lives a second paid
 * for those compiles and never ran their code long enough to profit. Measured on `ctb stats --json`
 * over an existing data directory: ~1.8 CPU-s and ~230 MB peak RSS by default, ~0.9 CPU-s and
 * ~140 MB with Liftoff only (`ctb kill`, `ctb mode status` alike; initdb in its child ~7 → ~4.6).
 * The bot (`ctb start`) tiers up, later: BOT_WASM_TIERING_FLAG.
 */
export const BASELINE_WASM_FLAG = '--liftoff-only';

/**
 * V8's flag for the same one-shot process: each WebAssembly function is validated when it is first
 * compiled, as it is compiled only when first called, instead of all of PGlite's (some 13,700
 * functions, 6.4 MB of code) on background threads while the module is compiled, for a command that
 * calls some 2,200 of them. Measured compiling pglite.wasm with Liftoff only: ~43 CPU-ms
 * validating everything, ~13 with this flag (~30 of a one-shot command's ~450). A function whose
 * code were invalid (a damaged pglite.wasm) throws V8's CompileError when first called instead of
 * failing the module's compile: opening the database fails either way for those that start it.
 */
export const LAZY_WASM_VALIDATION_FLAG = '--wasm-lazy-validation';

/** The V8 flags of a process that opens PGlite for one command (the command, and initdb's child). */
export const ONE_SHOT_WASM_FLAGS: readonly string[] = [BASELINE_WASM_FLAG, LAZY_WASM_VALIDATION_FLAG];

/**
 * Sets ONE_SHOT_WASM_FLAGS in this process, before PGlite compiles its WebAssembly: for the rest of
 * the process, so only in one that exits after its command (OpenOptions.oneShot).
 */
export function useBaselineWasmCompiler(): void {
  for (const flag of ONE_SHOT_WASM_FLAGS) setFlagsFromString(flag);
}

/**
 * V8's flag for the bot (`ctb start`), which runs for weeks: a function tiers up to TurboFan once it
 * has run 1000 times V8's default budget (1.8 M, roughly bytes of code executed), not at the default.
 * Opening, migrating and first reading the database made PostgreSQL's largest functions (executor,
 * parser, planner) hot by the default budget, and their TurboFan compiles cost the start more than the
 * start itself: measured to `engine lease taken`, ~78k page faults and 3.3–4.2 CPU-s by default,
 * ~42k and 2.2 with this budget (~36k and 1.7 with Liftoff only). What runs hot for long still tiers up.
 */
export const BOT_WASM_TIERING_FLAG = '--wasm-tiering-budget=1800000000';

/** Sets BOT_WASM_TIERING_FLAG in this process, before PGlite compiles its WebAssembly (the serving bot). */
export function useLateWasmTierUp(): void {
  setFlagsFromString(BOT_WASM_TIERING_FLAG);
}

/** Where the embedded database lives under DATA_DIR. */
export function pgliteDirOf(dataDir: string): string {
  return join(dataDir, 'pglite');
}

/** A directory PostgreSQL has initialised (initdb writes PG_VERSION first of its files). */
export function isInitialised(pgDir: string): boolean {
  return existsSync(join(pgDir, 'PG_VERSION'));
}

/**
 * Runs initdb for `pgDir` in a child process and waits for it to end; throws with what it printed.
 * A process, not a worker thread: a worker's freed memory stays in this process's allocator
 * (measured: 373 MiB RSS after opening beside a finished worker, 191 MiB beside a finished child).
 */
export async function initialiseInChild(pgDir: string, startParams: string[]): Promise<void> {
  const moduleUrl = import.meta.resolve('@electric-sql/pglite');
  // Plain JavaScript, so the child runs the same with or without a TypeScript loader.
  const script = `const { PGlite } = await import(${JSON.stringify(moduleUrl)});
    const pg = await PGlite.create(${JSON.stringify(pgDir)}, { startParams: ${JSON.stringify(startParams)} });
    await pg.close();`;
  await new Promise<void>((resolve, reject) => {
    // A one-shot process: TurboFan's compiles would cost it more than they save, and so would
    // validating functions it never calls (ONE_SHOT_WASM_FLAGS).
    const child = process.getBuiltinModule('node:child_process').spawn(process.execPath, [...ONE_SHOT_WASM_FLAGS, '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`initialising the embedded database failed (${signal ?? `exit code ${code}`}): ${stderr.trim() || 'no output'}`));
    });
  });
}
