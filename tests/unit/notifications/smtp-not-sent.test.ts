// Which failed SMTP sends certainly did not go out (the next try is then no repeat), on errors shaped
// as nodemailer 8 makes them (node_modules/nodemailer/lib/smtp-connection): a failure before the
// server could take the mail is not-sent; one that may have come after the body went is not.
import { describe, expect, it } from 'vitest';
import { certainlyNotSentBySmtp } from '../../../src/email/smtp.js';

const nodemailerError = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe('a failed SMTP send that certainly did not go out', () => {
  it('is one the server refused (4xx/5xx)', () => {
    expect(certainlyNotSentBySmtp(nodemailerError('Message failed: 451 try later', { code: 'EMESSAGE', responseCode: 451, command: 'DATA' }))).toBe(true);
    expect(certainlyNotSentBySmtp(nodemailerError('Can\'t send mail', { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }))).toBe(true);
  });

  it('is one that never connected: refused, no such host, no answer or no greeting in time', () => {
    expect(certainlyNotSentBySmtp(nodemailerError('connect ECONNREFUSED 127.0.0.1:1', { code: 'ESOCKET', syscall: 'connect', command: 'CONN' }))).toBe(true);
    expect(certainlyNotSentBySmtp(nodemailerError('getaddrinfo ENOTFOUND smtp.invalid', { code: 'EDNS', command: 'CONN' }))).toBe(true);
    expect(certainlyNotSentBySmtp(nodemailerError('Connection timeout', { code: 'ETIMEDOUT', command: 'CONN' }))).toBe(true);
    expect(certainlyNotSentBySmtp(nodemailerError('Greeting never received', { code: 'ETIMEDOUT', command: 'CONN' }))).toBe(true);
  });

  it('is one nodemailer would not start: no login, a bad envelope or message', () => {
    expect(certainlyNotSentBySmtp(nodemailerError('Missing credentials for "PLAIN"', { code: 'EAUTH', command: 'API' }))).toBe(true);
    expect(certainlyNotSentBySmtp(nodemailerError('No recipients defined', { code: 'EENVELOPE', command: 'API' }))).toBe(true);
    expect(certainlyNotSentBySmtp(nodemailerError('Empty message', { code: 'EMESSAGE', command: 'API' }))).toBe(true);
  });

  it('is not one that may have come after the server took the mail', () => {
    // The socket timeout and a close after the body are reported as CONN too.
    expect(certainlyNotSentBySmtp(nodemailerError('Timeout', { code: 'ETIMEDOUT', command: 'CONN' }))).toBe(false);
    expect(certainlyNotSentBySmtp(nodemailerError('Connection closed unexpectedly', { code: 'ECONNECTION', command: 'CONN' }))).toBe(false);
    expect(certainlyNotSentBySmtp(nodemailerError('read ECONNRESET', { code: 'ESOCKET', syscall: 'read', command: 'CONN' }))).toBe(false);
    expect(certainlyNotSentBySmtp(new Error('Timeout'))).toBe(false);
    expect(certainlyNotSentBySmtp(null)).toBe(false);
  });
});
