// A `git` that holds: first on a child's PATH, each git process the child starts tells the test it
// was called and waits for the test's go, then runs the real git (the rest of PATH). For a test that
// acts while a child `ctb start` is at a known point of its start: the engine part's start reads the
// checkout's release with `git describe` (src/services/release/version.ts), the start's only git
// process. Bash's /dev/tcp speaks to the test: nothing to install. A test that ends without its go
// closes the connections, and the held git runs then: nothing is left waiting.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HeldGit {
  /** PATH for the child: this git first, then the test's own PATH. */
  path: string;
  /** Resolves with the arguments of the first git process the child started, once it waits for the go. */
  called: Promise<string>;
  /** Lets the held git processes run, and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

export async function holdGit(): Promise<HeldGit> {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-held-git-'));
  const held = new Set<Socket>();
  let released = false;
  let called!: (args: string) => void;
  const calledPromise = new Promise<string>((resolve) => (called = resolve));
  const server = createServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
    socket.once('data', (args) => {
      called(String(args).trim());
      if (released) socket.end('go\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  writeFileSync(join(dir, 'git'), [
    '#!/bin/bash',
    `if exec 3<>/dev/tcp/127.0.0.1/${port}; then`,
    '  echo "$*" >&3',
    '  read -r _ <&3',
    '  exec 3<&-',
    'fi',
    'PATH=${PATH#*:} exec git "$@"',
    '',
  ].join('\n'));
  chmodSync(join(dir, 'git'), 0o755);
  return {
    path: `${dir}:${process.env.PATH ?? ''}`,
    called: calledPromise,
    release() {
      released = true;
      for (const socket of held) socket.end('go\n');
    },
    async close() {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
