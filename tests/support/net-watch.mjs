// Loaded into a test's child process (`node --import <this file>`, NODE_OPTIONS): every TCP connection
// the child opens to a host that is not this machine is appended, as `host:port`, to the file named by
// CTB_TEST_NET_LOG and refused before any lookup or packet (the socket fails with EACCES, as a
// firewall would refuse it), so nothing a test starts reaches Kraken, Slack or anyone else. The spawn
// helpers (tests/support/local-only.ts) read the file when the child exits and fail the test: the
// refusal alone could pass unseen where a test expects Kraken to be unreachable. Plain JavaScript,
// so a child loads it without a build or a loader.
import { appendFileSync } from 'node:fs';
import net from 'node:net';

const log = process.env.CTB_TEST_NET_LOG;

/** Loopback, or a name RFC 6761 guarantees never resolves (`.invalid`, which some tests use on purpose). */
function local(host) {
  const h = String(host).replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1' || /^127\./.test(h) || /^::ffff:127\./.test(h) || h.endsWith('.invalid');
}

if (log) {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function watchedConnect(...args) {
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    let host;
    let port;
    if (first !== null && typeof first === 'object') {
      // A pipe has a path and no port (an HTTP request's options carry its URL path beside the port).
      if (first.port !== undefined || !first.path) ({ host = 'localhost', port } = first);
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      port = first;
      host = typeof args[1] === 'string' ? args[1] : 'localhost';
    }
    if (host === undefined || local(host)) return connect.apply(this, args);
    appendFileSync(log, `${host}:${port}\n`);
    const refused = Object.assign(new Error(`connect EACCES ${host}:${port} (a test's child may not leave this machine)`), { code: 'EACCES', syscall: 'connect' });
    process.nextTick(() => this.destroy(refused));
    return this;
  };
}
