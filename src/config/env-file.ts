// Owns reading a .env file strictly: every line is blank, a comment, or KEY=value (optionally
// `export KEY=value`, the value optionally quoted). A line that is none of these is refused with the
// file, the line number and what was expected, instead of being skipped or half-read the way a
// lenient parser does (`PORT 3001` ignored, `PASSWORD=ab#cd` read as `ab`). The offending text is
// never echoed: a malformed line is often a secret pasted in the wrong place.
import { ConfigError } from './env.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EXPECTED = 'expected KEY=value (e.g. PORT=3001), a # comment or a blank line';

/** Parses .env text; throws ConfigError naming every malformed line of `file`, and every variable set twice. */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const { vars, problems } = readEnvFile(text, file);
  if (problems.length > 0) throw new ConfigError(problems);
  return vars;
}

/**
 * The well-formed lines' variables, the line each was (last) set on, and a problem for each malformed
 * line (for a caller that must go on: the kill).
 */
export function readEnvFile(text: string, file: string): { vars: Record<string, string>; lineOf: Record<string, number>; problems: string[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const vars: Record<string, string> = {};
  const lineOf: Record<string, number> = {};
  const problems: string[] = [];
  const bad = (line: number, what: string) => problems.push(`${file}:${line}: ${what}; ${EXPECTED}`);
  // A variable set twice is a problem, not "the last wins" in silence: IS_LIVE=false above, IS_LIVE=true
  // further down armed the process, and a risk limit read the second of two values. The last is kept
  // for a caller that goes on past problems (the kill).
  const setVar = (name: string, value: string, lineNo: number) => {
    const first = lineOf[name];
    if (first !== undefined) problems.push(`${file}:${lineNo}: sets ${name} again (it is set on line ${first}); expected each variable once: remove one of them`);
    vars[name] = value;
    lineOf[name] = lineNo;
  };
  for (let i = 0; i < lines.length; i += 1) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const body = line.replace(/^export\s+/, '');
    const eq = body.indexOf('=');
    if (eq === -1) {
      bad(lineNo, /^[A-Za-z_][A-Za-z0-9_]*:/.test(body) ? "a colon instead of '='" : "no '=' on this line");
      continue;
    }
    const name = body.slice(0, eq).trim();
    if (name === '') {
      bad(lineNo, "no variable name before '='");
      continue;
    }
    if (!NAME.test(name)) {
      bad(lineNo, 'the name before \'=\' is not a variable name (letters, digits and _, not starting with a digit)');
      continue;
    }
    const rest = body.slice(eq + 1).replace(/^[ \t]+/, '');
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      // A quoted value may run over several lines (a PEM key); it must close before the file ends.
      let value = '';
      let j = i;
      let text = rest.slice(1);
      let closedAt = -1;
      for (;;) {
        closedAt = closingQuote(text, quote);
        if (closedAt !== -1 || j + 1 >= lines.length) break;
        value += `${text}\n`;
        j += 1;
        text = lines[j]!;
      }
      if (closedAt === -1) {
        bad(lineNo, `the value of ${name} opens a ${quote} quote that is never closed`);
        i = j;
        continue;
      }
      value += text.slice(0, closedAt);
      const after = text.slice(closedAt + 1).trim();
      i = j;
      if (after !== '' && !after.startsWith('#')) {
        bad(j + 1, `text after the closing quote of ${name}'s value`);
        continue;
      }
      setVar(name, quote === '"' ? unescapeDouble(value) : value, lineNo);
      continue;
    }
    // Unquoted: the value ends at an inline comment (whitespace then #), never at a bare '#'.
    const comment = rest.search(/\s#/);
    setVar(name, (comment === -1 ? rest : rest.slice(0, comment)).trim(), lineNo);
  }
  return { vars, lineOf, problems };
}

/** Index of the quote that closes a value in `text`, or -1; in double quotes \" does not close. */
function closingQuote(text: string, quote: string): number {
  for (let k = 0; k < text.length; k += 1) {
    if (quote === '"' && text[k] === '\\') {
      k += 1;
      continue;
    }
    if (text[k] === quote) return k;
  }
  return -1;
}

/** As dotenv reads double quotes: \n and \r become line breaks; anything else stays as written. */
function unescapeDouble(value: string): string {
  return value.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
}
