/** The native core's outcome codes land on the one error taxonomy, exactly as the JavaScript path reports them. */
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isLoadShedding } from '../../src/protocols/classify.js';
import { nativeFailure } from '../../src/protocols/native/codes.js';

describe('nativeFailure', () => {
  it('maps errno values by name and phase', () => {
    expect(nativeFailure(constants.errno.ECONNREFUSED, 'tcpConnect')).toEqual({
      origin: 'network',
      phase: 'tcpConnect',
      code: 'ECONNREFUSED',
    });
    expect(nativeFailure(constants.errno.ECONNRESET, 'held')).toEqual({
      origin: 'network',
      phase: 'held',
      code: 'ECONNRESET',
    });
    expect(nativeFailure(constants.errno.EMFILE, 'tcpConnect')).toEqual({
      origin: 'local',
      phase: 'tcpConnect',
      code: 'EMFILE',
    });
    expect(nativeFailure(constants.errno.EADDRNOTAVAIL, 'tcpConnect')).toEqual({
      origin: 'local',
      phase: 'tcpConnect',
      code: 'EADDRNOTAVAIL',
    });
  });

  it('maps CONNACK and DISCONNECT codes, shedding included', () => {
    expect(nativeFailure(1000 + 5, 'mqttConnack')).toEqual({
      origin: 'protocol',
      phase: 'mqttConnack',
      code: 'CONNACK_05',
    });
    expect(isLoadShedding(nativeFailure(1000 + 0x9f, 'mqttConnack'))).toBe(true);
    expect(nativeFailure(2000 + 0x8b, 'held')).toEqual({ origin: 'protocol', phase: 'held', code: 'DISCONNECT_8B' });
    expect(isLoadShedding(nativeFailure(2000 + 0x89, 'held'))).toBe(true);
  });

  it('maps the core’s own codes to the JavaScript path’s', () => {
    expect(nativeFailure(3001, 'mqttConnack')).toEqual({
      origin: 'network',
      phase: 'mqttConnack',
      code: 'CLOSED_BEFORE_CONNACK',
    });
    expect(nativeFailure(3002, 'held')).toEqual({ origin: 'network', phase: 'held', code: 'PEER_CLOSED' });
    expect(nativeFailure(3003, 'held')).toEqual({ origin: 'protocol', phase: 'held', code: 'MQTT_MALFORMED_PACKET' });
    expect(nativeFailure(3004, 'mqttConnack')).toEqual({
      origin: 'protocol',
      phase: 'mqttConnack',
      code: 'MQTT_PACKET_TOO_LARGE',
    });
    expect(nativeFailure(3005, 'mqttConnack')).toEqual({
      origin: 'protocol',
      phase: 'mqttConnack',
      code: 'MQTT_MALFORMED_LENGTH',
    });
    expect(nativeFailure(3006, 'mqttConnack')).toEqual({
      origin: 'protocol',
      phase: 'mqttConnack',
      code: 'MQTT_UNEXPECTED_PACKET',
    });
    expect(nativeFailure(3007, 'tcpConnect')).toEqual({ origin: 'network', phase: 'tcpConnect', code: 'ECONNRESET' });
  });

  it('names an errno it does not know instead of dropping it', () => {
    expect(nativeFailure(999, 'tcpConnect')).toEqual({ origin: 'network', phase: 'tcpConnect', code: 'ERRNO_999' });
  });
});
