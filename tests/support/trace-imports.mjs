// `node --import ./tests/support/trace-imports.mjs …` with CTB_TRACE_IMPORTS=<file>: appends the URL
// of every module the ES module loader loads to <file>, one a line — our chunks and every package
// entry imported from them (a CommonJS package's own require()s are not listed, its entry is).
import { register } from 'node:module';

const file = process.env.CTB_TRACE_IMPORTS;
if (!file) throw new Error('trace-imports: set CTB_TRACE_IMPORTS to the file to write');
register('./trace-imports-hooks.mjs', import.meta.url, { data: { file } });
