import { describe, expect, it } from 'vitest';
import { HerdError } from '../../src/errors.js';
import { classifyError, isLoadShedding, wsHttpFailure } from '../../src/protocols/classify.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../../src/protocols/kinds.js';
import { parseTargetUrl } from '../../src/util/target-url.js';
import { clientCertFor, resolveTls } from '../../src/protocols/transports/tls-options.js';
import { MAX_CACHED_CONTEXTS, SecureContexts } from '../../src/protocols/transports/tls-context.js';
import { TlsSessionStore } from '../../src/protocols/transports/tls-sessions.js';

const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url).pathname;

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HerdError);
    return [...(e as HerdError).details];
  }
  throw new Error('expected a HerdError');
}

describe('TLS settings', () => {
  it('loads client certificates from a directory or a template, device n → pair n mod count', () => {
    for (const spec of [`${TLS_DIR}clients`, `${TLS_DIR}clients/device-{id}.crt`]) {
      const t = resolveTls({ clientCert: spec });
      expect(t.clientCerts.map((c) => c.name)).toEqual(['device-0', 'device-1', 'device-2', 'device-3']);
      expect(clientCertFor(t, 6)?.name).toBe('device-2');
    }
    expect(clientCertFor(resolveTls({}), 6)).toBeNull();
    expect(resolveTls({}).rejectUnauthorized).toBe(true);
    expect(resolveTls({ insecure: true }).rejectUnauthorized).toBe(false);
  });

  it('reports every bad setting at once, naming the field and the file', () => {
    const p = problems(() =>
      resolveTls(
        {
          ca: '/nonexistent/ca.pem',
          clientCert: `${TLS_DIR}nothing-{id}.crt`,
          resume: 1.5,
          minVersion: 'TLSv1.3',
          maxVersion: 'TLSv1.2',
        },
        'device.tls',
      ),
    );
    expect(p).toEqual([
      'device.tls.ca: cannot read /nonexistent/ca.pem (ENOENT)',
      'device.tls.minVersion: TLSv1.3 is above maxVersion TLSv1.2',
      'device.tls.resume: expected a share between 0 and 1, got 1.5',
      `device.tls.clientCert: no certificate files match ${TLS_DIR}nothing-{id}.crt (expected <name>.crt with a <name>.key beside it)`,
    ]);
    expect(problems(() => resolveTls({ ca: `${TLS_DIR}README.md` }))).toEqual([
      `device.tls.ca: ${TLS_DIR}README.md is not a PEM file (no -----BEGIN line)`,
    ]);
  });

  it('session store: exactly share × eligible reconnects offer a session; memory capped', () => {
    const s = new TlsSessionStore(0.8, 2);
    expect(s.take(1)).toBeUndefined(); // nothing cached: a first connect is not a reconnect that could resume
    s.save(1, Buffer.from('a'));
    const offered = Array.from({ length: 10 }, () => s.take(1) !== undefined).filter(Boolean).length;
    expect(offered).toBe(8);
    s.save(2, Buffer.from('b'));
    s.save(3, Buffer.from('c'));
    expect(s.size).toBe(2);
    expect(new TlsSessionStore(0, 10).take(1)).toBeUndefined();
  });
});

describe('SecureContexts', () => {
  it('one context per client certificate pair, built once; pairs past the cap are built per connection', () => {
    const pair = resolveTls({ clientCert: `${TLS_DIR}clients/device-{id}.crt` }).clientCerts[0]!;
    const pairs = Array.from({ length: MAX_CACHED_CONTEXTS + 1 }, () => pair);
    const c = new SecureContexts({
      ca: undefined,
      minVersion: undefined,
      maxVersion: undefined,
      clientCerts: pairs,
      offerPskWithoutKeyExchange: false,
    });
    expect(c.forDevice(5)).toBe(c.forDevice(5 + pairs.length));
    expect(c.forDevice(5)).not.toBe(c.forDevice(6));
    expect(c.forDevice(MAX_CACHED_CONTEXTS)).not.toBe(c.forDevice(MAX_CACHED_CONTEXTS));
    expect(c.size).toBe(2);
    const fleet = resolveTls({ ca: `${TLS_DIR}ca.crt` }).contexts;
    expect(fleet.forDevice(0)).toBe(fleet.forDevice(12345));
    expect(fleet.size).toBe(1);
  });
});

describe('endpoints and classification', () => {
  it('parses each scheme with its default port and path', () => {
    expect(parseTargetUrl('mqtt://127.0.0.1', 'target', { name: 'mqtt', ...DEVICE_KIND_ROWS.mqtt })).toMatchObject({
      scheme: 'mqtt',
      port: 1883,
      path: '',
      secure: false,
      hostIsIp: true,
    });
    expect(parseTargetUrl('mqtts://broker.local', 'target', { name: 'mqtt', ...DEVICE_KIND_ROWS.mqtt })).toMatchObject({
      port: 8883,
      secure: true,
      hostIsIp: false,
    });
    expect(parseTargetUrl('ws://127.0.0.1:9001', 'target', { name: 'mqtt', ...DEVICE_KIND_ROWS.mqtt })).toMatchObject({
      port: 9001,
      path: '/mqtt',
    });
    expect(
      parseTargetUrl('wss://[::1]/x?y=1', 'target', { name: 'websocket', ...DEVICE_KIND_ROWS.websocket }),
    ).toMatchObject({ host: '::1', port: 443, path: '/x?y=1' });
    expect(() =>
      parseTargetUrl('mqtt://127.0.0.1', 'target', { name: 'websocket', ...DEVICE_KIND_ROWS.websocket }),
    ).toThrow(/websocket device cannot use "mqtt:\/\/"/);
    expect(() => parseTargetUrl('http://127.0.0.1', 'target', { name: 'mqtt', ...DEVICE_KIND_ROWS.mqtt })).toThrow(
      HerdError,
    );
    expect(() => prepareTarget('mqtt', 'mqtt://127.0.0.1', { insecure: true })).toThrow(/not a TLS URL/);
    expect(prepareTarget('mqtt', 'mqtts://127.0.0.1').tls?.rejectUnauthorized).toBe(true);
  });

  it('classifies TLS, WebSocket and local errors by origin', () => {
    expect(classifyError({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'tlsHandshake')).toEqual({
      origin: 'tls',
      phase: 'tlsHandshake',
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(classifyError({ code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' }, 'mqttConnack').origin).toBe('tls');
    expect(classifyError({ code: 'WS_ERR_INVALID_OPCODE' }, 'held')).toEqual({
      origin: 'protocol',
      phase: 'held',
      code: 'WS_ERR_INVALID_OPCODE',
    });
    expect(classifyError(new Error('Invalid Sec-WebSocket-Accept header'), 'wsUpgrade')).toEqual({
      origin: 'protocol',
      phase: 'wsUpgrade',
      code: 'WS_HANDSHAKE_INVALID',
    });
    expect(classifyError({ code: 'EMFILE' }, 'tcpConnect').origin).toBe('local');
    expect(isLoadShedding(wsHttpFailure(503))).toBe(true);
    expect(isLoadShedding(wsHttpFailure(500))).toBe(false);
  });
});
