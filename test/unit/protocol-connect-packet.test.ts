/**
 * buildConnect writes CONNECT bytes itself (no per-attempt garbage); mqtt-packet's generate() is
 * the reference: for every field combination both give the same bytes, and where generate()
 * refuses the fields, buildConnect throws the same error.
 */
import fc from 'fast-check';
import * as mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import {
  buildConnect,
  connectProtocolVersion,
  generateConnect,
  type ConnectFields,
} from '../../src/protocols/mqtt/connect-packet.js';

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constant(''));
const fields: fc.Arbitrary<ConnectFields> = fc
  .record({
    clientId: text,
    username: fc.option(text, { nil: null }),
    password: fc.option(text, { nil: null }),
    keepaliveS: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(-1, 0x10000, 1.5)),
    clean: fc.boolean(),
    protocolVersion: fc.constantFrom<4 | 5>(4, 5),
    sessionExpiryIntervalS: fc.option(fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constant(-1)), {
      nil: undefined,
    }),
    receiveMaximum: fc.option(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constant(0x10000)), { nil: undefined }),
    maximumPacketBytes: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
  })
  .map((r) => {
    const f: ConnectFields = {
      clientId: r.clientId,
      username: r.username,
      password: r.password,
      keepaliveS: r.keepaliveS,
      clean: r.clean,
      protocolVersion: r.protocolVersion,
    };
    if (r.sessionExpiryIntervalS !== undefined) f.sessionExpiryIntervalS = r.sessionExpiryIntervalS;
    if (r.receiveMaximum !== undefined) f.receiveMaximum = r.receiveMaximum;
    if (r.maximumPacketBytes !== undefined) f.maximumPacketBytes = r.maximumPacketBytes;
    return f;
  });

function outcome(build: (f: ConnectFields) => Buffer, f: ConnectFields): string {
  try {
    return build(f).toString('hex');
  } catch (err) {
    return `throws ${(err as Error).message}`;
  }
}

describe('buildConnect', () => {
  it('gives the bytes mqtt-packet generates, and throws where it refuses', () => {
    fc.assert(
      fc.property(fields, (f) => {
        expect(outcome(buildConnect, f)).toBe(outcome(generateConnect, f));
      }),
      { numRuns: 2_000 },
    );
  });

  it('a typical device CONNECT round-trips through the parser', () => {
    const f: ConnectFields = {
      clientId: 'herd-run1-42',
      username: 'dev',
      password: 'päss',
      keepaliveS: 60,
      clean: false,
      protocolVersion: 5,
      sessionExpiryIntervalS: 300,
    };
    const bytes = buildConnect(f);
    const parser = mqtt.parser({ protocolVersion: 5 });
    const seen: mqtt.Packet[] = [];
    parser.on('packet', (p) => seen.push(p));
    parser.parse(bytes);
    expect(seen).toHaveLength(1);
    const p = seen[0] as mqtt.IConnectPacket;
    expect([
      p.clientId,
      p.username,
      String(p.password),
      p.keepalive,
      p.clean,
      p.protocolVersion,
      p.properties?.sessionExpiryInterval,
    ]).toEqual(['herd-run1-42', 'dev', 'päss', 60, false, 5, 300]);
    expect(connectProtocolVersion(bytes)).toBe(5);
  });
});
