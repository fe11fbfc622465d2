/**
 * The MQTT 5 signal readers of both connect paths (issue 22): the JavaScript path's
 * (src/protocols/mqtt/server-signals.ts) and the native core's streaming one (native/src/signal.c,
 * through the addon's parseSignal test hook, fed whole and in pieces of 1, 2 and 5 bytes). Valid
 * packets from mqtt-packet's generator give the properties they were built with; a table of
 * malformed bodies (property lengths that miss, overrun or run past the packet, bad identifiers,
 * duplicates, bad values, bad UTF-8) is no signal on both; random and mutated bodies never crash
 * either reader, and the two always agree. The native half skips with the reason when the addon is
 * not built.
 */
import fc from 'fast-check';
import * as mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { readServerSignal, readSignalBody, type ServerSignal } from '../../src/protocols/mqtt/server-signals.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADDON_PATH, loadAddon, loadNative } from '../../src/protocols/native/binding.js';
import { nativeSignal } from '../../src/protocols/native/codes.js';
import { nativeBuilt } from '../helpers/native.js';

const native = nativeBuilt() ? loadNative() : null;
const PIECES = [0, 1, 2, 5];

/** What the native reader makes of a body, fed in pieces of `piece` bytes (0: whole). */
function nativeRead(type: 2 | 14, body: Buffer, piece: number): ServerSignal | null {
  const r = native!.parseSignal(body, type, piece);
  return r === null ? null : nativeSignal(r[0], r[1], r[2], r[3]);
}

/** Both readers on one body: the JavaScript one, and the native one (when built) in every piece size. */
function readBoth(type: 2 | 14, body: Buffer): ServerSignal | null {
  const js = readSignalBody(type, body)?.signal ?? null;
  if (native !== null) for (const p of PIECES) expect(nativeRead(type, body, p), `piece ${p}`).toEqual(js);
  return js;
}

/** A frame's body: what follows the fixed header's remaining-length bytes. */
function bodyOf(frame: Buffer): Buffer {
  let i = 1;
  while (((frame[i] as number) & 0x80) !== 0) i++;
  return frame.subarray(i + 1);
}

const u16 = (n: number): number[] => [n >> 8, n & 0xff];
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const str = (s: string | Buffer): number[] => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
  return [...u16(b.length), ...b];
};
/** A body: head bytes (flags and reason code), then a one-byte property length and the properties. */
const body = (head: number[], props: number[], plen = props.length): Buffer => Buffer.from([...head, plen, ...props]);

function sig(packet: 'connack' | 'disconnect', reasonCode: number, extra: Partial<ServerSignal> = {}): ServerSignal {
  return {
    packet,
    reasonCode,
    serverKeepAliveS: null,
    sessionExpiryS: null,
    serverReference: null,
    maximumQoS: null,
    retainAvailable: null,
    ...extra,
  };
}

describe('MQTT 5 signal readers, both connect paths', () => {
  it('well-formed CONNACK and DISCONNECT bodies, the short DISCONNECT forms included', () => {
    const connack = body(
      [1, 0],
      [
        ...[0x13, ...u16(7)],
        ...[0x11, ...u32(30)],
        ...[0x24, 0],
        ...[0x25, 1],
        ...[0x21, ...u16(5)],
        ...[0x26, ...str('k'), ...str('v')],
        ...[0x26, ...str('k'), ...str('w')],
        ...[0x12, ...str('assigned')],
        ...[0x1c, ...str('127.0.0.1:1884')],
      ],
    );
    expect(readBoth(2, connack)).toEqual(
      sig('connack', 0, {
        serverKeepAliveS: 7,
        sessionExpiryS: 30,
        maximumQoS: 0,
        retainAvailable: true,
        serverReference: '127.0.0.1:1884',
      }),
    );
    expect(readSignalBody(2, connack)?.receiveMaximum).toBe(5);
    expect(readBoth(2, body([0, 0x9f], []))).toEqual(sig('connack', 0x9f));
    expect(readBoth(14, Buffer.alloc(0))).toEqual(sig('disconnect', 0));
    expect(readBoth(14, Buffer.from([0x89]))).toEqual(sig('disconnect', 0x89));
    expect(readBoth(14, body([0x9c], [0x1c, ...str('')]))).toEqual(sig('disconnect', 0x9c, { serverReference: '' }));
    // A leading byte-order mark and non-ASCII text are kept as sent.
    const bom = '\ufeffbröker:1883';
    expect(readBoth(14, body([0x9d], [0x1c, ...str(bom)]))?.serverReference).toBe(bom);
    // A 200-byte Server Reference needs a two-byte property length.
    const long = `127.0.0.1:1884/${'x'.repeat(185)}`;
    const props = [0x1c, ...str(long)];
    const twoByteLen = Buffer.from([0x9c, (props.length & 0x7f) | 0x80, props.length >> 7, ...props]);
    expect(readBoth(14, twoByteLen)?.serverReference).toBe(long);
  });

  it.each([
    ['a property length longer than the rest', 2, body([0, 0], [0x13, ...u16(7)], 4)],
    ['a property length shorter than the rest', 2, body([0, 0], [0x13, ...u16(7)], 2)],
    ['a property length of five bytes', 14, Buffer.from([0x89, 0x80, 0x80, 0x80, 0x80, 0x00])],
    ['a property length cut short by the packet', 14, Buffer.from([0x89, 0x80])],
    ['a CONNACK without a property length', 2, Buffer.from([0, 0x89])],
    ['a CONNACK with reserved flags set', 2, body([2, 0], [])],
    ['a number cut short', 2, body([0, 0], [0x11, 0, 0])],
    ['a string length past the packet', 14, body([0x9c], [0x1c, ...u16(40), 0x61])],
    ['a User Property value missing', 14, body([0x9c], [0x26, ...str('k')])],
    ['an unknown property', 2, body([0, 0], [0x7f, 0])],
    ['property identifier 0', 2, body([0, 0], [0x00])],
    ['a CONNACK-only property on DISCONNECT', 14, body([0x89], [0x13, ...u16(7)])],
    ['a property CONNACK may not carry (Topic Alias)', 2, body([0, 0], [0x23, ...u16(1)])],
    ['Server Keep Alive twice', 2, body([0, 0], [0x13, ...u16(7), 0x13, ...u16(8)])],
    ['Server Reference twice', 14, body([0x9c], [0x1c, ...str('a:1'), 0x1c, ...str('b:1')])],
    ['Maximum QoS 2', 2, body([0, 0], [0x24, 2])],
    ['Retain Available 7', 2, body([0, 0], [0x25, 7])],
    ['Receive Maximum 0', 2, body([0, 0], [0x21, ...u16(0)])],
    ['Maximum Packet Size 0', 2, body([0, 0], [0x27, ...u32(0)])],
    ['a Server Reference that is not UTF-8', 14, body([0x9c], [0x1c, ...str(Buffer.from([0x61, 0xc3, 0x28]))])],
    ['an overlong UTF-8 encoding', 14, body([0x9c], [0x1c, ...str(Buffer.from([0xc0, 0xaf]))])],
    ['a UTF-16 surrogate in UTF-8', 14, body([0x9c], [0x1c, ...str(Buffer.from([0xed, 0xa0, 0x80]))])],
    ['a Server Reference holding U+0000', 14, body([0x9c], [0x1c, ...str(Buffer.from([0x61, 0x00]))])],
    ['a DISCONNECT reason code the spec does not define', 14, Buffer.from([0x05])],
  ] as const)('malformed: %s → no signal', (_name, type, b) => {
    expect(readBoth(type, b)).toBeNull();
  });

  it('the frame reader takes the fixed header, and a frame whose length misses is no signal', () => {
    const f = mqtt.generate(
      { cmd: 'disconnect', reasonCode: 0x9c, properties: { serverReference: 'h:1' } },
      {
        protocolVersion: 5,
      },
    );
    expect(readServerSignal(f)).toEqual(sig('disconnect', 0x9c, { serverReference: 'h:1' }));
    expect(readServerSignal(Buffer.from([0xe0, 0x05, 0x9c]))).toBeNull();
    expect(readServerSignal(Buffer.from([0xd0, 0x00]))).toBeNull();
  });

  const utf8 = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !s.includes('\0'));
  const connackProps = fc.record(
    {
      serverKeepAlive: fc.integer({ min: 0, max: 0xffff }),
      sessionExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
      maximumQoS: fc.constantFrom(0, 1),
      retainAvailable: fc.boolean(),
      receiveMaximum: fc.integer({ min: 1, max: 0xffff }),
      serverReference: utf8,
      reasonString: utf8,
      assignedClientIdentifier: utf8,
      userProperties: fc.dictionary(utf8, utf8, { minKeys: 1, maxKeys: 3 }),
    },
    { requiredKeys: [] },
  );

  it('CONNACKs mqtt-packet generates give back the properties they were built with', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 0, max: 0xff }), connackProps, (present, rc, props) => {
        const f = mqtt.generate(
          { cmd: 'connack', sessionPresent: present, reasonCode: rc, properties: props },
          {
            protocolVersion: 5,
          },
        );
        expect(readBoth(2, bodyOf(f))).toEqual(
          sig('connack', rc, {
            serverKeepAliveS: props.serverKeepAlive ?? null,
            sessionExpiryS: props.sessionExpiryInterval ?? null,
            serverReference: props.serverReference ?? null,
            maximumQoS: props.maximumQoS ?? null,
            retainAvailable: props.retainAvailable ?? null,
          }),
        );
      }),
      { numRuns: 500 },
    );
  });

  it.skipIf(native === null)('random and mutated bodies: neither reader throws, and they always agree', () => {
    const valid = mqtt.generate(
      {
        cmd: 'connack',
        sessionPresent: false,
        reasonCode: 0x9c,
        properties: { serverKeepAlive: 9, serverReference: '127.0.0.1:1', userProperties: { a: 'b' } },
      },
      { protocolVersion: 5 },
    );
    const seed = valid.subarray(2);
    const mutated = fc
      .array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 0xff })), { maxLength: 3 })
      .chain((flips) => fc.nat(seed.length).map((cut) => ({ flips, cut })))
      .map(({ flips, cut }) => {
        const b = Buffer.from(seed);
        for (const [i, v] of flips) b[i] = v;
        return b.subarray(0, cut);
      });
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      mutated,
    );
    fc.assert(
      fc.property(fc.constantFrom<2 | 14>(2, 14), bytes, (type, b) => {
        readBoth(type, b);
      }),
      { numRuns: 3_000 },
    );
  });

  it('an addon built before the signal reader is refused with the reason (its devices go to the JavaScript path)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herd-old-addon-'));
    const old = join(dir, 'old-addon.cjs');
    writeFileSync(old, 'module.exports = { create() {}, open() {}, nowUs() { return 0; } };\n');
    const r = loadAddon(old);
    expect(r.binding).toBeNull();
    expect(r.reason).toBe(
      `${old} is out of date (built before it read MQTT 5 server signals; rebuild it with \`node scripts/build-native.js\`)`,
    );
    const beforeTls = join(dir, 'before-tls.cjs');
    writeFileSync(beforeTls, 'module.exports = { create() {}, open() {}, parseSignal() {}, nowUs() { return 0; } };\n');
    expect(loadAddon(beforeTls).reason).toBe(
      `${beforeTls} is out of date (built before it spoke TLS; rebuild it with \`node scripts/build-native.js\`)`,
    );
    const beforeTelemetry = join(dir, 'before-telemetry.cjs');
    writeFileSync(beforeTelemetry, 'module.exports = { create() {}, open() {}, parseSignal() {}, useTls() {} };\n');
    expect(loadAddon(beforeTelemetry).reason).toBe(
      `${beforeTelemetry} is out of date (built before it carried telemetry; rebuild it with \`node scripts/build-native.js\`)`,
    );
    const beforeDetach = join(dir, 'before-detach.cjs');
    const withTelemetry = 'create() {}, open() {}, parseSignal() {}, useTls() {}, publish() {}';
    writeFileSync(beforeDetach, `module.exports = { ${withTelemetry} };\n`);
    expect(loadAddon(beforeDetach).reason).toBe(
      `${beforeDetach} is out of date (built before it kept a rebooted device’s old connection open; rebuild it with \`node scripts/build-native.js\`)`,
    );
    const beforeWake = join(dir, 'before-wake.cjs');
    const withBatches = `${withTelemetry}, detach() {}, tlsTakeDone() {}, batchKeptEvents: 256`;
    writeFileSync(beforeWake, `module.exports = { ${withBatches} };\n`);
    expect(loadAddon(beforeWake).reason).toBe(
      `${beforeWake} is out of date (built before it woke the scheduler at µs precision; rebuild it with \`node scripts/build-native.js\`)`,
    );
    expect(loadAddon(join(dir, 'missing.node')).reason).toMatch(/^\/.*missing\.node does not load: /);
    if (native !== null) expect(loadAddon(ADDON_PATH).binding).not.toBeNull();
  });
});
