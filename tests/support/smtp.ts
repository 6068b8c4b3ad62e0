// A real SMTP server on loopback (smtp-server) that keeps what it receives, for email tests.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface TestSmtp {
  port: number;
  url: string;
  received: ReceivedMail[];
  /** While set, every message is refused with this SMTP error (an outage). */
  refuseWith: string | null;
  /** Called as each message is kept, before the server answers 250 (a test kills the sender here). */
  onAccept: ((mail: ReceivedMail) => void) | null;
  close(): Promise<void>;
}

export async function startTestSmtp(opts: { user?: string; pass?: string } = {}): Promise<TestSmtp> {
  const state: TestSmtp = { port: 0, url: '', received: [], refuseWith: null, onAccept: null, close: async () => {} };
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: !opts.user,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === opts.user && auth.password === opts.pass) cb(null, { user: auth.username });
      else cb(new Error('bad credentials'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (state.refuseWith) {
          const err = Object.assign(new Error(state.refuseWith), { responseCode: 451 });
          return cb(err);
        }
        const mail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        };
        state.received.push(mail);
        state.onAccept?.(mail);
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.server.address() as AddressInfo).port;
  const auth = opts.user ? `${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.pass ?? '')}@` : '';
  state.url = `smtp://${auth}127.0.0.1:${state.port}?tls=off`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

/** A received mail's headers (names lower-cased, folded lines joined) and its plain-text body, decoded. */
export function readMail(mail: ReceivedMail): { header(name: string): string | undefined; text: string } {
  const split = mail.raw.indexOf('\r\n\r\n');
  const head = mail.raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map(head.split('\r\n').map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
  }));
  const body = mail.raw.slice(split + 4);
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const text = encoding === 'base64'
    ? Buffer.from(body, 'base64').toString('utf8')
    : encoding === 'quoted-printable'
      ? Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8')
      : body;
  const header = (name: string) => {
    const value = headers.get(name.toLowerCase());
    return value === undefined ? undefined : decodeWords(value);
  };
  return { header, text: text.replace(/\r\n/g, '\n') };
}

/** A header value with its RFC 2047 encoded words (=?UTF-8?Q?…?= or ?B?, as nodemailer writes non-ASCII) decoded. */
function decodeWords(value: string): string {
  const word = /=\?UTF-8\?([QB])\?([^?]*)\?=/gi;
  return value.replace(/(\?=)\s+(?==\?)/g, '$1').replace(word, (_m, enc: string, data: string) => enc.toUpperCase() === 'B'
    ? Buffer.from(data, 'base64').toString('utf8')
    : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_h, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8'));
}
