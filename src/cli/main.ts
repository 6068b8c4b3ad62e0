// Entry point of the `ctb` binary (built into dist/ctb.js; bin/ctb.js runs it, or a command's
// one-script build in dist/fast/ when it has one: see run-main.ts).
import { runMain } from './run-main.js';

await runMain();
