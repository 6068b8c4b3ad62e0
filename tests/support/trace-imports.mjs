// `node --import ./tests/support/trace-imports.mjs …` with CTB_TRACE_IMPORTS=<file>: appends the URL
// of every module the ES module loader loads to <file>, one a line — our chunks and every package
// imported from them — and, when the process exits, every CommonJS module it required (a package
// loaded with require() or createRequire, and the files of CommonJS packages).
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.env.CTB_TRACE_IMPORTS;
if (!file) throw new Error('trace-imports: set CTB_TRACE_IMPORTS to the file to write');
register('./trace-imports-hooks.mjs', import.meta.url, { data: { file } });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  appendFileSync(file, Object.keys(cache).map((path) => `${pathToFileURL(path).href}\n`).join(''));
});
