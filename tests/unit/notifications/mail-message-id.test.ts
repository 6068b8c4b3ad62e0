// An alert mail's Message-ID names only the domain its From address already shows a mail client, and
// nothing else of the sender's setup (not the machine). With ALERT_EMAIL_FROM unset, From is
// ctb@<SMTP host>, so that host is the domain: shown in From already, it reveals nothing new.
import { describe, expect, it } from 'vitest';
import { messageIdDomain } from '../../../src/email/smtp.js';

describe('the domain of an alert mail\'s Message-ID', () => {
  it('is the From address\'s domain, named or bare', () => {
    expect(messageIdDomain('ctb alerts <ctb@alerts.example.org>')).toBe('alerts.example.org');
    expect(messageIdDomain('"ops@desk" <ctb@example.com>')).toBe('example.com');
    expect(messageIdDomain('ctb@example.com')).toBe('example.com');
    expect(messageIdDomain('ctb alerts <ctb@[127.0.0.1]>')).toBe('[127.0.0.1]');
  });

  it('is `ctb` when the From address has no usable domain', () => {
    expect(messageIdDomain('ctb alerts')).toBe('ctb');
    expect(messageIdDomain('ctb@')).toBe('ctb');
    expect(messageIdDomain('ctb <ctb@bad domain>')).toBe('ctb');
  });
});
