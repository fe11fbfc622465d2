/**
 * The native core's TLS client in C (native/src/tls.c driven by wire.c) under AddressSanitizer,
 * LeakSanitizer and UndefinedBehaviorSanitizer: native/test/tls-hostile.c runs hostile servers on a
 * thread of its own process — garbage, a close and a reset mid-handshake, a stall, a fatal alert,
 * 300 random replies to the ClientHello — and a real TLS server for a full then a resumed
 * handshake, CONNACK and a clean end. Every attempt must end with its expected outcome, no
 * connection may stay open, nothing may leak. The harness links the system's libssl (the addon
 * uses Node's); without it, or without a C compiler, the test skips with the reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { externalProgram } from '../helpers/external.js';

const cc = externalProgram('cc');
const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'herd-tls-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sslHeaders = existsSync('/usr/include/openssl/ssl.h');
if (cc !== null && !sslHeaders) {
  const why = 'no system OpenSSL headers (/usr/include/openssl/ssl.h, Debian libssl-dev)';
  if (process.env['HERD_REQUIRE_EXTERNAL'] === '1') throw new Error(`HERD_REQUIRE_EXTERNAL=1 but ${why}`);
  console.warn(`SKIP: ${why}: the C TLS harness is skipped`);
}

function build(sanitize: boolean): string | null {
  const out = join(dir, sanitize ? 'tls-hostile-asan' : 'tls-hostile');
  const flags = sanitize ? ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-O1', '-g'] : ['-O1'];
  const src = [
    'native/test/tls-hostile.c',
    'native/src/wire.c',
    'native/src/wire_open.c',
    'native/src/wire_io.c',
    'native/src/signal.c',
    'native/src/tls.c',
    'native/src/tls_sessions.c',
    'native/src/tls_codes.c',
    'native/src/msg.c',
    'native/src/msg_in.c',
  ];
  const r = spawnSync(
    cc as string,
    [
      '-std=gnu11',
      '-Wall',
      '-Wextra',
      '-Wno-unused-parameter',
      ...flags,
      `-I${join(ROOT, 'native/src')}`,
      ...src.map((f) => join(ROOT, f)),
      '-lssl',
      '-lcrypto',
      '-lpthread',
      '-lm',
      '-o',
      out,
    ],
    { encoding: 'utf8' },
  );
  return r.status === 0 ? out : null;
}

describe.skipIf(cc === null || !sslHeaders)('the native TLS client against hostile servers, under sanitizers', () => {
  it('every hostile server ends the attempt with its code; a full then resumed handshake; nothing leaks', () => {
    let bin = build(true);
    if (bin === null) {
      console.warn('NOTE: the C compiler has no ASan/UBSan runtime: the TLS harness runs without sanitizers');
      bin = build(false);
    }
    expect(bin).not.toBeNull();
    const out = execFileSync(bin as string, [join(ROOT, 'fixtures/tls'), '300', '7'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(out.trim()).toBe('ok 307');
  });
});
