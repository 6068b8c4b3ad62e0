// Owns the width of a table cell's text as cli-table3 measures it (string-width: terminal columns,
// ANSI codes and emoji counted as shown), with a shortcut for plain text: printable ASCII and the
// few symbols ctb's texts use (— … → · × • ≥ ≤ − – ≈ and box drawing), each one column wide, which
// string-width answers by adding one per character too (none is a control or combining character,
// wide, an emoji or part of one, or an ANSI code). string-width strips ANSI codes and replaces emoji
// with regular expressions it builds anew on every call, and cli-table3 measures each word of a
// wrapped cell and each line twice: an audit's tables took over 0.1 s of a cold `ctb audit` so.
// Any other text (a colour code, CJK, an emoji, an accent) is measured by string-width itself.

const PLAIN = /^[\x20-\x7e\u2014\u2026\u2192\u00b7\u00d7\u2022\u2265\u2264\u2212\u2013\u2248\u2500-\u257f]*$/;

export type WidthOf = (text: unknown) => number;

/** `measure` (string-width), answering plain text by its length without calling it. */
export function withPlainTextShortcut(measure: WidthOf): WidthOf {
  return (text) => (typeof text === 'string' && PLAIN.test(text) ? text.length : measure(text));
}
