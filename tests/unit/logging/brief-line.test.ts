// A one-shot command's stderr line (log-brief-line.ts) on a terminal: no control character in a field
// reaches the terminal raw (an ESC sequence could retitle it or hide text), and a list says its count.
import { describe, expect, it } from 'vitest';
import { briefLine } from '../../../src/log-brief-line.js';

const line = (fields: Record<string, unknown>) => briefLine(JSON.stringify({ level: 40, time: 0, msg: 'refused', ...fields }), false);

describe('briefLine', () => {
  it('escapes control characters (C0, DEL, C1) in values and keys, as pino-pretty did, and quotes such values', () => {
    const text = line({ v: 'abc\x1b]0;title\x07def', del: 'a\x7fb', csi: 'x\x9b31my', nested: { 'k\x1b[2J': 'ok' } });
    expect(text).toContain('v="abc\\u001b]0;title\\u0007def"');
    expect(text).toContain('del="a\\u007fb"');
    expect(text).toContain('csi="x\\u009b31my"');
    expect(text).toContain('nested.k\\u001b[2J=ok');
    expect(text.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('says a list of one as "(1 item)", of more as "(n items)"', () => {
    expect(line({ survivors: [{ id: 'O1' }] })).toContain('survivors=(1 item)');
    expect(line({ survivors: [{ id: 'O1' }, { id: 'O2' }] })).toContain('survivors=(2 items)');
  });
});
