/**
 * Server-directed behaviour (issue 16), pure: MQTT 5 CONNACK/DISCONNECT frames read into signals,
 * and what a device with given rules decides — back off, move to a Server Reference only when it
 * names one of its own loopback targets, adopt Server Keep Alive.
 */
import * as mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { readServerSignal } from '../../src/protocols/mqtt/server-signals.js';
import { SPEC_STEERING, referencedTarget, steer } from '../../src/engine/steering.js';

const v5 = (p: mqtt.Packet): Buffer => mqtt.generate(p, { protocolVersion: 5 });
const targets = ['mqtt://127.0.0.1:1883', 'mqtt://127.0.0.1:1884'];
const obey = { backoffOn: [0x96, 0x97, 0x9f], followServerReference: true, adoptServerKeepAlive: true };

describe('reading MQTT 5 server signals', () => {
  it('CONNACK: reason code and the properties a server imposes', () => {
    const s = readServerSignal(
      v5({
        cmd: 'connack',
        sessionPresent: false,
        reasonCode: 0,
        properties: { serverKeepAlive: 7, sessionExpiryInterval: 30, maximumQoS: 0, retainAvailable: false },
      }),
    );
    expect(s).toEqual({
      packet: 'connack',
      reasonCode: 0,
      serverKeepAliveS: 7,
      sessionExpiryS: 30,
      serverReference: null,
      maximumQoS: 0,
      retainAvailable: false,
    });
  });

  it('DISCONNECT: reason code and Server Reference', () => {
    const s = readServerSignal(
      v5({ cmd: 'disconnect', reasonCode: 0x9c, properties: { serverReference: '127.0.0.1:1884' } }),
    );
    expect(s).toMatchObject({ packet: 'disconnect', reasonCode: 0x9c, serverReference: '127.0.0.1:1884' });
  });

  it('a malformed frame is no signal', () => {
    expect(readServerSignal(Buffer.from([0xe0, 0x05, 0x9c]))).toBeNull();
  });
});

describe('steering', () => {
  const sig = (reasonCode: number, extra: Partial<Parameters<typeof steer>[0]> = {}) => ({
    packet: 'disconnect' as const,
    reasonCode,
    serverKeepAliveS: null,
    sessionExpiryS: null,
    serverReference: null,
    maximumQoS: null,
    retainAvailable: null,
    ...extra,
  });

  it('backs off one extra step on the codes the rules name, not on others', () => {
    expect(steer(sig(0x96), obey, targets)).toMatchObject({
      key: 'DISCONNECT_96',
      backoffSteps: 1,
      moveTo: null,
      referenceRefused: false,
    });
    expect(steer(sig(0x8e), obey, targets)).toMatchObject({ key: 'DISCONNECT_8E', backoffSteps: 0 });
    expect(steer(sig(0x96), SPEC_STEERING, targets).backoffSteps).toBe(0);
  });

  it('moves to a Server Reference that is one of its loopback targets; counts any other as refused', () => {
    expect(steer(sig(0x9c, { serverReference: '127.0.0.1:1884' }), obey, targets)).toMatchObject({
      moveTo: 1,
      referenceRefused: false,
    });
    expect(steer(sig(0x9d, { serverReference: 'mqtt://127.0.0.1:1883' }), obey, targets)).toMatchObject({ moveTo: 0 });
    // Not in the targets, not on loopback, or a policy that does not move: never followed.
    // 192.0.2.1 is a documentation address (RFC 5737): steer() is pure, nothing is ever contacted.
    for (const ref of ['127.0.0.1:9999', 'broker.invalid:1883', '192.0.2.1:1883']) {
      expect(steer(sig(0x9c, { serverReference: ref }), obey, targets), ref).toMatchObject({
        moveTo: null,
        referenceRefused: true,
      });
    }
    expect(steer(sig(0x9c, { serverReference: '127.0.0.1:1884' }), SPEC_STEERING, targets)).toMatchObject({
      moveTo: null,
      referenceRefused: true,
    });
  });

  it('a reference to a non-loopback address is refused even when a target has that address', () => {
    expect(referencedTarget('192.0.2.1:1883', ['mqtt://192.0.2.1:1883'])).toBe(-1);
  });

  it('adopts Server Keep Alive in µs unless told not to', () => {
    const c = { ...sig(0), packet: 'connack' as const, serverKeepAliveS: 7 };
    expect(steer(c, SPEC_STEERING, [])).toMatchObject({ key: 'CONNACK_00', keepaliveUs: 7_000_000 });
    expect(steer(c, { ...SPEC_STEERING, adoptServerKeepAlive: false }, []).keepaliveUs).toBeNull();
  });
});
