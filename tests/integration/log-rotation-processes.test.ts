// LOG_DIR is written by several processes (the running bot, each `ctb` command), each with its own
// open file: only the bot rotates, a command never moves the bot's log away (a `ctb audit` run with
// a small LOG_MAX_BYTES once archived the running bot's system.log, and the bot went on writing into
// the archive), and every writer follows a rotation another process made.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import { LogFile } from '../../src/log-file.js';
import { createLogger } from '../../src/logger.js';
import { childScript } from '../support/children.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function logDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-logrot-'));
  dirs.push(dir);
  return dir;
}

/** Another process writing LOG_DIR: as the bot (rotate) or as a `ctb` command (append). */
function writerProcess(dir: string, maxBytes: number, mode: 'rotate' | 'append') {
  const child = spawn(process.execPath, [childScript('log-writer-child'), dir, String(maxBytes), mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async write(count: number, tag: string) {
      child.stdin.write(`${count} ${tag}\n`);
      expect((await answers.next()).value).toBe('ok');
    },
    /** Ends the process: whatever it wrote is on disk when this resolves. */
    async exit() {
      const exited = once(child, 'exit');
      child.stdin.end();
      expect((await exited)[0]).toBe(0);
    },
  };
}

/** Waits until the files show what was written (a writer may append asynchronously). */
async function written(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('the lines did not reach LOG_DIR in 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tagsIn(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { tag?: string }).tag ?? '');
}

function archives(dir: string): string[] {
  const archive = join(dir, 'archive');
  return existsSync(archive) ? readdirSync(archive).map((f) => join(archive, f)) : [];
}

function botLogger(dir: string, maxBytes: number, rotate: boolean) {
  return createLogger({ config: testConfig({ LOG_DIR: dir, LOG_MAX_BYTES: String(maxBytes), LOG_ARCHIVES: '100', LOG_LEVEL: 'info' }), stdout: false, rotate });
}

describe('LOG_DIR written by several processes', () => {
  it('a ctb command never rotates the running bot\'s log, even with a smaller LOG_MAX_BYTES', async () => {
    const dir = logDir();
    const bot = botLogger(dir, 10 * 1024 * 1024, true);
    for (let i = 0; i < 60; i++) bot.info({ tag: 'bot-before', pad: 'x'.repeat(80) }, 'bot line');
    const system = join(dir, 'system.log');
    await written(() => existsSync(system) && statSync(system).size > 4096);
    const inode = statSync(system).ino;

    const command = writerProcess(dir, 4096, 'append');
    await command.write(5, 'command');
    await command.exit();
    bot.info({ tag: 'bot-after' }, 'bot line');
    await written(() => [system, ...archives(dir)].flatMap(tagsIn).includes('bot-after'));

    expect(archives(dir)).toEqual([]);
    expect(statSync(system).ino).toBe(inode);
    const tags = tagsIn(system);
    expect(tags.filter((t) => t === 'command')).toHaveLength(5);
    expect(tags.at(-1)).toBe('bot-after');
  });

  it('a writer follows a rotation made by the bot in another process: no line goes on into the archive', async () => {
    const dir = logDir();
    const command = botLogger(dir, 4096, false);
    command.info({ tag: 'before' }, 'command line');
    await written(() => existsSync(join(dir, 'system.log')) && tagsIn(join(dir, 'system.log')).includes('before'));
    const bot = writerProcess(dir, 4096, 'rotate');
    await bot.write(60, 'bot');
    await bot.exit();
    expect(archives(dir).length).toBeGreaterThan(0);

    command.info({ tag: 'after' }, 'command line');
    await written(() => [join(dir, 'system.log'), ...archives(dir)].flatMap(tagsIn).includes('after'));
    expect(tagsIn(join(dir, 'system.log'))).toContain('after');
    for (const f of archives(dir)) expect(tagsIn(f), f).not.toContain('after');
    // Every line the bot wrote is kept, in the current file or an archive.
    const all = [join(dir, 'system.log'), ...archives(dir).filter((f) => f.includes('/system-'))].flatMap(tagsIn);
    expect(all.filter((t) => t === 'bot')).toHaveLength(60);
  });

  it('two rotating writers on one LOG_DIR take turns: each rotation once, no line lost, no file past the limit', () => {
    const dir = logDir();
    const opts = { dir, base: 'system', rotateAtBytes: 2048, archives: 1000, rotate: true };
    const web = new LogFile(opts);
    const worker = new LogFile(opts);
    for (let i = 0; i < 200; i++) (i % 2 ? web : worker).write(`${JSON.stringify({ tag: `line-${i}`, pad: 'y'.repeat(60) })}\n`);
    web.close();
    worker.close();
    const files = [join(dir, 'system.log'), ...archives(dir)];
    const tags = files.flatMap(tagsIn);
    expect(new Set(tags).size).toBe(200);
    expect(tags).toHaveLength(200);
    for (const f of files) expect(statSync(f).size, f).toBeLessThan(2048 + 200);
    expect(readFileSync(join(dir, 'system.history'), 'utf8').split('\n').filter(Boolean)).toHaveLength(archives(dir).length);
  });
});
