// Owns writing files into a snapshot directory: every text file passes through the secret scrubber,
// every file's size and SHA-256 is recorded for the manifest as it is written.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { sha256, type ManifestEntry } from './manifest.js';

export class SnapshotWriter {
  readonly entries: ManifestEntry[] = [];

  constructor(
    readonly dir: string,
    private readonly scrub: (text: string) => string,
  ) {}

  async writeText(path: string, text: string): Promise<void> {
    const clean = this.scrub(text);
    await this.#write(path, Buffer.from(clean, 'utf8'), clean !== text);
  }

  /** Copies a file: text is scrubbed, binary (a NUL byte) is copied as it is. */
  async copyFile(source: string, path: string): Promise<void> {
    const data = await readFile(source);
    if (data.includes(0)) return this.#write(path, data, false);
    return this.writeText(path, data.toString('utf8'));
  }

  /** Streams lines into a file (JSON lines of a table export) without holding them all in memory. */
  async writeLines(path: string, lines: AsyncIterable<string>): Promise<number> {
    const full = join(this.dir, path);
    await mkdir(dirname(full), { recursive: true });
    const out = createWriteStream(full, { mode: 0o600 });
    const hash = createHash('sha256');
    let bytes = 0;
    let count = 0;
    let scrubbed = false;
    try {
      for await (const line of lines) {
        const clean = this.scrub(line);
        if (clean !== line) scrubbed = true;
        const chunk = Buffer.from(`${clean}\n`, 'utf8');
        hash.update(chunk);
        bytes += chunk.length;
        count += 1;
        if (!out.write(chunk)) await once(out, 'drain');
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
    this.entries.push({ path, bytes, sha256: hash.digest('hex'), ...(scrubbed ? { scrubbed } : {}) });
    return count;
  }

  async #write(path: string, data: Buffer, scrubbed: boolean): Promise<void> {
    const full = join(this.dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, data, { mode: 0o600 });
    this.entries.push({ path, bytes: data.length, sha256: sha256(data), ...(scrubbed ? { scrubbed } : {}) });
  }
}
