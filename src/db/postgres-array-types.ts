// Owns what the project teaches postgres.js about array types: a long-running client reads the
// server's types once for all its connections; a one-shot client (the CLI) is given PostgreSQL's
// built-in ones and reads none. postgres.js keeps these in options it does not document, so each
// function leaves a client it does not recognise as it is.
import type postgres from 'postgres';

/**
 * postgres.js reads the server's array types (a query over pg_type) on each new connection, though
 * what it reads belongs to the client: its parsers and serializers are shared by all its connections.
 * Once one connection has read them, the client's later connections skip that query. A cold command
 * whose statements run side by side opens several connections at once (ctb stats: five), and each
 * paid a round trip, and the server a catalogue scan, before its first statement. A connection that
 * starts before the first read has finished still reads them, as before.
 */
export function readArrayTypesOnce(client: postgres.Sql): void {
  const options = client.options as unknown as { fetch_types?: unknown; shared?: { typeArrayMap?: Record<string, number> } };
  const read = options.shared?.typeArrayMap;
  if (options.fetch_types !== true || typeof read !== 'object' || read === null) return; // not the postgres.js this was written for: as it is
  Object.defineProperty(options, 'fetch_types', { configurable: true, enumerable: true, get: () => Object.keys(read).length === 0 });
}

/**
 * PostgreSQL's built-in types that have an array type, as [type, its array type] OIDs: what
 * postgres.js's pg_type read finds for them (their OIDs are fixed: the same on every server). Types a
 * database makes (enums, domains, a table's row type) get OIDs of their own; this project makes no
 * enum or domain, and sends and reads no array of a row type.
 */
// prettier-ignore
const BUILT_IN_ARRAY_TYPES: ReadonlyArray<readonly [number, number]> = [
  [16, 1000], [17, 1001], [18, 1002], [19, 1003], [20, 1016], [21, 1005], [22, 1006], [23, 1007], [24, 1008], [25, 1009],
  [26, 1028], [27, 1010], [28, 1011], [29, 1012], [30, 1013], [114, 199], [142, 143], [600, 1017], [601, 1018], [602, 1019],
  [603, 1020], [604, 1027], [628, 629], [650, 651], [700, 1021], [701, 1022], [718, 719], [774, 775], [790, 791], [829, 1040],
  [869, 1041], [1033, 1034], [1042, 1014], [1043, 1015], [1082, 1182], [1083, 1183], [1114, 1115], [1184, 1185], [1186, 1187],
  [1266, 1270], [1560, 1561], [1562, 1563], [1700, 1231], [1790, 2201], [2202, 2207], [2203, 2208], [2204, 2209], [2205, 2210],
  [2206, 2211], [2275, 1263], [2950, 2951], [2970, 2949], [3220, 3221], [3614, 3643], [3615, 3645], [3642, 3644], [3734, 3735],
  [3769, 3770], [3802, 3807], [3904, 3905], [3906, 3907], [3908, 3909], [3910, 3911], [3912, 3913], [3926, 3927], [4072, 4073],
  [4089, 4090], [4096, 4097], [4191, 4192], [4451, 6150], [4532, 6151], [4533, 6152], [4534, 6153], [4535, 6155], [4536, 6157],
  [5038, 5039], [5069, 271],
];

type TypeParser = ((text: string) => unknown) & { array?: boolean };
type TypeSerializer = (value: unknown) => unknown;
interface ClientTypeOptions {
  fetch_types?: unknown;
  parsers?: Record<number, TypeParser | undefined>;
  serializers?: Record<number, TypeSerializer | undefined>;
  transform?: { undefined?: unknown };
  shared?: { typeArrayMap?: Record<string, number> };
}

/**
 * A client whose process runs one command: the built-in array types are registered as postgres.js
 * registers them once it has read pg_type (its addArrayType: the array's parser over the element's,
 * its serializer over the element's, the element's array type for sql.array()), and no connection
 * reads pg_type. That read held the command's first statement for a round trip and a catalogue scan
 * (and each connection that opened before it had finished read them too). Types the database makes
 * have no entry: an array of one would be read as its text and could not be sent, so a process that
 * needs one must read the types (a client that is not one-shot still does, once).
 */
export function registerBuiltInArrayTypes(client: postgres.Sql): void {
  const options = client.options as unknown as ClientTypeOptions;
  const { parsers, serializers } = options;
  const map = options.shared?.typeArrayMap;
  if (options.fetch_types !== true || !parsers || !serializers || typeof map !== 'object' || map === null) return; // not the postgres.js this was written for: as it is
  for (const [oid, typarray] of BUILT_IN_ARRAY_TYPES) {
    if (parsers[typarray] && serializers[typarray]) continue;
    const parser = parsers[oid];
    map[oid] = typarray;
    parsers[typarray] = Object.assign((text: string) => parseArray(text, parser, typarray), { array: true });
    serializers[typarray] = (value: unknown) => serializeArray(value, serializers[oid], options, typarray);
  }
  options.fetch_types = false;
}

// postgres.js's arrayParser and arraySerializer (src/types.js, 3.4.9), which it does not export; a
// test compares them with postgres.js's own for every type above.
function parseArray(text: string, parser: TypeParser | undefined, typarray: number): unknown[] {
  return parseArrayLevel({ i: 0, last: 0, quoted: false, str: '', char: '', prev: '' }, text, parser, typarray);
}

interface ArrayParseState {
  i: number;
  last: number;
  quoted: boolean;
  str: string;
  char: string;
  prev: string;
}

function parseArrayLevel(s: ArrayParseState, x: string, parser: TypeParser | undefined, typarray: number): unknown[] {
  const xs: unknown[] = [];
  const delimiter = typarray === 1020 ? ';' : ','; // box[] alone is delimited by ';'
  const value = (v: string) => (parser ? parser(v) : v);
  for (; s.i < x.length; s.i++) {
    s.char = x[s.i]!;
    if (s.quoted) {
      if (s.char === '\\') {
        s.str += x[++s.i];
      } else if (s.char === '"') {
        xs.push(value(s.str));
        s.str = '';
        s.quoted = x[s.i + 1] === '"';
        s.last = s.i + 2;
      } else {
        s.str += s.char;
      }
    } else if (s.char === '"') {
      s.quoted = true;
    } else if (s.char === '{') {
      s.last = ++s.i;
      xs.push(parseArrayLevel(s, x, parser, typarray));
    } else if (s.char === '}') {
      s.quoted = false;
      if (s.last < s.i) xs.push(value(x.slice(s.last, s.i)));
      s.last = s.i + 1;
      break;
    } else if (s.char === delimiter && s.prev !== '}' && s.prev !== '"') {
      xs.push(value(x.slice(s.last, s.i)));
      s.last = s.i + 1;
    }
    s.prev = s.char;
  }
  if (s.last < s.i) xs.push(value(x.slice(s.last, s.i + 1)));
  return xs;
}

function serializeArray(xs: unknown, serializer: TypeSerializer | undefined, options: ClientTypeOptions, typarray: number): unknown {
  if (!Array.isArray(xs)) return xs;
  if (!xs.length) return '{}';
  const delimiter = typarray === 1020 ? ';' : ',';
  const first: unknown = xs[0];
  if (Array.isArray(first) && !(first as { type?: unknown }).type) {
    return '{' + xs.map((x: unknown) => serializeArray(x, serializer, options, typarray)).join(delimiter) + '}';
  }
  const element = (input: unknown): string => {
    let x = input;
    if (x === undefined) {
      x = options.transform?.undefined;
      if (x === undefined) throw Object.assign(new Error('UNDEFINED_VALUE: Undefined values are not allowed'), { code: 'UNDEFINED_VALUE' });
    }
    if (x === null) return 'null';
    const v = x as { type?: unknown; value?: unknown };
    const text = (serializer ? serializer(v.type ? v.value : x) : '' + (x as string)) as string;
    return '"' + text.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  };
  return '{' + xs.map(element).join(delimiter) + '}';
}
