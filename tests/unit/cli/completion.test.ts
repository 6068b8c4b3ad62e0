// `ctb completion bash|zsh` through the real binary, and the bash script driven by a real bash the
// way the shell does on Tab (COMP_WORDS/COMP_CWORD in, COMPREPLY out).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = new URL('../../../bin/ctb.js', import.meta.url).pathname;
const exec = promisify(execFile);
const ENV = { PATH: process.env.PATH ?? '', DATA_DIR: '/nonexistent-ctb' };

describe('ctb completion', () => {
  let dir: string;
  let bash: string;
  let zsh: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ctb-completion-'));
    const [b, z] = await Promise.all(['bash', 'zsh'].map(async (shell) => (await exec(process.execPath, [BIN, 'completion', shell], { env: ENV })).stdout));
    bash = b!;
    zsh = z!;
    writeFileSync(join(dir, 'ctb.bash'), bash);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What Tab offers after `line` (the last word is the one being completed). */
  async function complete(...line: string[]): Promise<string[]> {
    const words = line.map((w) => `'${w}'`).join(' ');
    const script = `source '${join(dir, 'ctb.bash')}'\nCOMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; COMPREPLY=(); _ctb; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const { stdout } = await exec('bash', ['--norc', '--noprofile', '-c', script], { cwd: dir });
    return stdout.split('\n').filter(Boolean).sort();
  }

  it('completes commands, subcommands, options and choices from the command tree', async () => {
    expect(await complete('ctb', 'sta')).toEqual(['start', 'stats']);
    expect(await complete('ctb', 'mode', 'l')).toEqual(['live']);
    expect(await complete('ctb', 'mode', '')).toEqual(['history', 'live', 'paper', 'status']);
    expect(await complete('ctb', 'stats', '--p')).toEqual(['--period']);
    expect(await complete('ctb', 'start', '--feed', 'r')).toEqual(['replay']);
    expect(await complete('ctb', 'alerts', 'test', '--json', '--severity', '')).toEqual(['critical', 'info', 'warning']);
    expect(await complete('ctb', 'completion', '')).toEqual(['bash', 'zsh']);
    expect(await complete('ctb', '--version', 'comp')).toEqual(['completion']);
  });

  it('leaves out hidden deprecated options, and completes file names after an option that takes any value', async () => {
    expect(await complete('ctb', 'audit-log', '--')).not.toContain('--since');
    expect(await complete('ctb', 'check-logs', '--')).toEqual(expect.arrayContaining(['--period', '--limit', '--json', '--help']));
    expect(await complete('ctb', 'check-logs', '--')).not.toContain('--window');
    expect(await complete('ctb', 'stats', '--chart', 'ctb.')).toEqual(['ctb.bash']);
  });

  it('is a bash script bash parses (bash -n) and that registers _ctb for ctb when sourced', async () => {
    await exec('bash', ['-n', join(dir, 'ctb.bash')]);
    const { stdout } = await exec('bash', ['--norc', '--noprofile', '-c', `source '${join(dir, 'ctb.bash')}' && complete -p ctb`]);
    expect(stdout.trim()).toBe('complete -F _ctb ctb');
  });

  it('gives zsh the same completion through bashcompinit, answering the very first Tab when installed in $fpath', () => {
    expect(zsh.startsWith('#compdef ctb\n')).toBe(true);
    expect(zsh).toContain('autoload -U +X bashcompinit && bashcompinit');
    const body = (s: string) => s.slice(s.indexOf('_ctb_subcommands() {'), s.indexOf('\ncomplete -F _ctb ctb\n'));
    expect(body(zsh)).toBe(body(bash));
    // compinit autoloads the file as _ctb on the first Tab; the file only defines the completion, so
    // unless it then completes that call itself the first Tab offers nothing (seen in zsh 5.9).
    expect(zsh.trimEnd().split('\n').at(-1)).toBe('if [[ ${funcstack[1]-} == _ctb ]] && (( ${+compstate} )); then _bash_complete -F _ctb; fi');
  });

  it('refuses another shell, naming the ones it knows', async () => {
    const run = await exec(process.execPath, [BIN, 'completion', 'fish'], { env: ENV }).catch((e: { code: number; stderr: string }) => e);
    expect((run as { code: number }).code).toBe(2);
    expect((run as { stderr: string }).stderr).toMatch(/Allowed choices are bash, zsh/);
  }, 30_000);
});
