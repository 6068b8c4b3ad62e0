// Owns colour on the terminal: on only when stdout is a terminal, NO_COLOR is unset (no-color.org)
// and TERM is not dumb; FORCE_COLOR=1 forces it (a pager that understands ANSI). picocolors does the
// escapes; whether to use them is decided here from the CliIo, not from the process globals.
import pc from 'picocolors';
import type { CliIo } from '../io.js';

export type Style = ReturnType<typeof pc.createColors>;

export function colourEnabled(io: Pick<CliIo, 'env' | 'stdout'>): boolean {
  const { NO_COLOR, FORCE_COLOR, TERM } = io.env;
  if (NO_COLOR !== undefined && NO_COLOR !== '') return false;
  if (FORCE_COLOR !== undefined && FORCE_COLOR !== '' && FORCE_COLOR !== '0') return true;
  return Boolean(io.stdout.isTTY) && TERM !== 'dumb';
}

export function styleFor(io: Pick<CliIo, 'env' | 'stdout'>): Style {
  return pc.createColors(colourEnabled(io));
}

/** No colour at all: for renderers called without a terminal (tests, Slack-independent text). */
export const plain: Style = pc.createColors(false);
