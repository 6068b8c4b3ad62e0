// Owns the width of a table cell's text as cli-table3 measures it (string-width: terminal columns,
// ANSI codes and emoji counted as shown), with a shortcut for printable ASCII: there each character
// is one column, the answer string-width gives too. string-width strips ANSI codes and replaces emoji
// with regular expressions it builds anew on every call, and cli-table3 measures each word of a
// wrapped cell and each line twice: an audit's tables took over 0.1 s of a cold `ctb audit` so.
// Any other text (a colour code, an em dash, a border, CJK, emoji) is measured by string-width itself.

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export type WidthOf = (text: unknown) => number;

/** `measure` (string-width), answering printable ASCII text by its length without calling it. */
export function withAsciiShortcut(measure: WidthOf): WidthOf {
  return (text) => (typeof text === 'string' && PRINTABLE_ASCII.test(text) ? text.length : measure(text));
}
