// Owns one LOG_DIR file (system.log, anomalies.log) as every process writes it: appended to with
// synchronous writes, and followed across rotations. Several processes write one LOG_DIR (the bot,
// each `ctb` command), but only a writer made with `rotate` (the running bot) ever moves the file
// into archive/: a command never rotates the bot's log, whatever its LOG_MAX_BYTES. Before each line
// a writer compares the file at the path with the one it holds open and reopens when another process
// rotated it, so no line goes on into an archive. Two rotating writers (a web and a worker bot on one
// LOG_DIR) take turns through a lock file, and the second finds the file already rotated.
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync, existsSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LogFileOptions {
  dir: string;
  /** The file's base name: `system` → LOG_DIR/system.log, archives LOG_DIR/archive/system-<time>-<n>.log. */
  base: string;
  /** Rotate once the file holds this many bytes (only when `rotate`). */
  rotateAtBytes: number;
  /** Archives of this base kept (LOG_ARCHIVES); older ones are removed at a rotation. */
  archives: number;
  /** True in the one kind of process that rotates LOG_DIR (the running bot). */
  rotate: boolean;
  now?: () => Date;
}

/** A rotation lock older than this was left by a process that died mid-rotation. */
const STALE_LOCK_MS = 10_000;

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

export class LogFile {
  readonly path: string;
  #fd: number;
  #ino: number;
  #failing = false;

  constructor(private readonly opts: LogFileOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.path = join(opts.dir, `${opts.base}.log`);
    this.#fd = openSync(this.path, 'a');
    this.#ino = fstatSync(this.#fd).ino;
  }

  /** pino's stream interface: one whole line per call. */
  write(line: string): boolean {
    try {
      const size = this.#follow();
      writeSync(this.#fd, line);
      if (this.opts.rotate && size + Buffer.byteLength(line) >= this.opts.rotateAtBytes) this.#rotate();
      this.#failing = false;
    } catch (err) {
      // A full disk or a removed LOG_DIR must not throw into the code that logged: say so once, on stderr.
      if (!this.#failing) process.stderr.write(`ctb: cannot write ${this.path}: ${(err as Error).message}\n`);
      this.#failing = true;
    }
    return true;
  }

  close(): void {
    closeSync(this.#fd);
  }

  /** Reopens the path when it is no longer the file held open (rotated elsewhere, or removed); answers its size. */
  #follow(): number {
    let st;
    try {
      st = statSync(this.path);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (st && st.ino === this.#ino) return st.size;
    this.#reopen();
    return st?.ino === this.#ino ? st.size : fstatSync(this.#fd).size;
  }

  #reopen(): void {
    const fd = openSync(this.path, 'a');
    closeSync(this.#fd);
    this.#fd = fd;
    this.#ino = fstatSync(fd).ino;
  }

  #rotate(): void {
    const lock = join(this.opts.dir, `${this.opts.base}.rotate.lock`);
    if (!this.#takeLock(lock)) return; // another writer is rotating: the next line follows its new file
    try {
      const current = statSync(this.path);
      // Rotated by the other writer between our write and the lock: follow it, don't rotate again.
      if (current.ino !== this.#ino || current.size < this.opts.rotateAtBytes) {
        if (current.ino !== this.#ino) this.#reopen();
        return;
      }
      const archiveDir = join(this.opts.dir, 'archive');
      mkdirSync(archiveDir, { recursive: true });
      const name = this.#archiveName(archiveDir);
      renameSync(this.path, join(archiveDir, name));
      this.#reopen();
      // The audit's logging check tells "rotated" from "never had to" by this file.
      appendFileSync(join(this.opts.dir, `${this.opts.base}.history`), `archive/${name}\n`);
      this.#prune(archiveDir);
    } finally {
      try {
        unlinkSync(lock);
      } catch {
        // Already gone: nothing to release.
      }
    }
  }

  #takeLock(lock: string): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        closeSync(openSync(lock, 'wx'));
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        try {
          if (Date.now() - statSync(lock).mtimeMs < STALE_LOCK_MS) return false;
          unlinkSync(lock);
        } catch (gone) {
          if (!isMissing(gone)) throw gone;
        }
      }
    }
    return false;
  }

  #archiveName(archiveDir: string): string {
    const stamp = (this.opts.now?.() ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\..+/, '');
    let index = 1;
    while (existsSync(join(archiveDir, `${this.opts.base}-${stamp}-${index}.log`))) index++;
    return `${this.opts.base}-${stamp}-${index}.log`;
  }

  /** Keeps the newest `archives` archives of this base. */
  #prune(archiveDir: string): void {
    const pattern = new RegExp(`^${this.opts.base}-\\d{8}T\\d{6}-\\d+\\.log$`);
    const mine = readdirSync(archiveDir).filter((f) => pattern.test(f)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const old of mine.slice(0, Math.max(0, mine.length - this.opts.archives))) {
      try {
        unlinkSync(join(archiveDir, old));
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
  }
}
