/**
 * Vendor SDK reconnect presets (issue 16): each expansion pinned to the values its source
 * documents (docs/presets.md names the file or page of each), field-by-field overrides, the device
 * options a preset sets, and the errors a bad preset or override gets.
 */
import { describe, expect, it } from 'vitest';
import { validateScenario } from '../../src/scenario/validate.js';
import { PRESET_NAMES } from '../../src/scenario/presets.js';
import { reconnectDelayUs, restartsBackoff } from '../../src/engine/reconnect.js';
import { HerdError } from '../../src/errors.js';

function resolve(reconnect: unknown, extra: Record<string, unknown> = {}) {
  return validateScenario({ name: 'p', devices: 4, reconnect, waves: [{ type: 'spike' }], ...extra }, 'p.yaml')
    .resolved;
}

function problems(reconnect: unknown): string[] {
  try {
    resolve(reconnect);
  } catch (err) {
    if (err instanceof HerdError) return [...err.details];
    throw err;
  }
  return [];
}

describe('reconnect presets expand to their documented source values', () => {
  it('aws-iot-sdk: aws-c-mqtt MQTT 5 defaults (1 s … 120 s, full jitter, reset after 30 s; keepalive 1200 s, CONNACK 20 s)', () => {
    const r = resolve({ preset: 'aws-iot-sdk' });
    expect(r.cohorts[0]?.reconnect).toEqual({
      policy: 'exponential',
      initialUs: 1_000_000,
      multiplier: 2,
      maxUs: 120_000_000,
      jitter: 'full',
      maxAttempts: null,
      resetAfterUs: 30_000_000,
    });
    const d = r.cohorts[0]?.device;
    expect([d?.keepaliveUs, d?.connectTimeoutUs, d?.cleanSession]).toEqual([1_200_000_000, 20_000_000, true]);
    expect(r.device.keepaliveUs).toBe(1_200_000_000);
  });

  it('azure-iot-sdk: .NET v2 default policy (2^(n+7) ms up to 12 h, 95–105 %)', () => {
    const r = resolve({ preset: 'azure-iot-sdk' });
    expect(r.cohorts[0]?.reconnect).toEqual({
      policy: 'exponential',
      initialUs: 128_000,
      multiplier: 2,
      maxUs: 12 * 3_600_000_000,
      jitter: 'proportional',
      jitterShare: 0.05,
      maxAttempts: null,
    });
    // No device options of its own: the scenario's defaults stay.
    expect(r.cohorts[0]?.device.keepaliveUs).toBe(60_000_000);
  });

  it('mqttjs-default: reconnectPeriod 1000 ms, no jitter; keepalive 60 s, connectTimeout 30 s, clean', () => {
    const r = resolve({ preset: 'mqttjs-default' }, { device: { keepalive: '15s' } });
    expect(r.cohorts[0]?.reconnect).toEqual({ policy: 'fixed', delayUs: 1_000_000, jitter: 'none', maxAttempts: null });
    const d = r.cohorts[0]?.device;
    // The preset's device defaults win over the scenario-wide device block…
    expect([d?.keepaliveUs, d?.connectTimeoutUs, d?.cleanSession]).toEqual([60_000_000, 30_000_000, true]);
  });

  it('paho-default: Paho Java automatic reconnect (1 s doubling to 128 s, no jitter); keepalive 60 s, timeout 30 s', () => {
    const r = resolve({ preset: 'paho-default' });
    expect(r.cohorts[0]?.reconnect).toEqual({
      policy: 'exponential',
      initialUs: 1_000_000,
      multiplier: 2,
      maxUs: 128_000_000,
      jitter: 'none',
      maxAttempts: null,
    });
    expect([r.cohorts[0]?.device.keepaliveUs, r.cohorts[0]?.device.connectTimeoutUs]).toEqual([60_000_000, 30_000_000]);
    const delays = [0, 1, 2, 6, 7, 8].map((n) => reconnectDelayUs(r.cohorts[0]!.reconnect, n, 0, () => 0.5));
    expect(delays).toEqual([1e6, 2e6, 4e6, 64e6, 128e6, 128e6]);
  });

  it('every preset has a test above', () => {
    expect([...PRESET_NAMES]).toEqual(['aws-iot-sdk', 'azure-iot-sdk', 'mqttjs-default', 'paho-default']);
  });
});

describe('overrides and device options', () => {
  it('overrides any field of the expansion, one at a time', () => {
    const r = resolve({ preset: 'aws-iot-sdk', max: '30s', jitter: 'decorrelated', maxAttempts: 5 });
    expect(r.cohorts[0]?.reconnect).toMatchObject({
      initialUs: 1_000_000,
      maxUs: 30_000_000,
      jitter: 'decorrelated',
      maxAttempts: 5,
      resetAfterUs: 30_000_000,
    });
  });

  it("a cohort's own device fields win over the preset's; deviceDefaults: false keeps the scenario's", () => {
    const r = resolve(
      { policy: 'none' },
      {
        cohorts: [
          { name: 'aws', share: 0.5, reconnect: { preset: 'aws-iot-sdk' }, device: { keepalive: '45s' } },
          { name: 'js', share: 0.25, reconnect: { preset: 'mqttjs-default', deviceDefaults: false } },
          { name: 'plain', share: 0.25 },
        ],
      },
    );
    const [aws, js, plain] = r.cohorts;
    expect([aws?.device.keepaliveUs, aws?.device.connectTimeoutUs]).toEqual([45_000_000, 20_000_000]);
    expect([js?.device.keepaliveUs, js?.device.connectTimeoutUs, js?.reconnect.policy]).toEqual([
      60_000_000,
      10_000_000,
      'fixed',
    ]);
    expect([plain?.device.connectTimeoutUs, plain?.reconnect.policy]).toEqual([10_000_000, 'none']);
  });

  it('a cohort without its own reconnect inherits the scenario preset and its device options', () => {
    const r = resolve({ preset: 'paho-default' }, { cohorts: [{ name: 'a', share: 1 }] });
    expect([r.cohorts[0]?.reconnect.policy, r.cohorts[0]?.device.connectTimeoutUs]).toEqual([
      'exponential',
      30_000_000,
    ]);
  });
});

describe('bad presets are named by their path', () => {
  it('an unknown preset lists the known ones', () => {
    expect(problems({ preset: 'esp-idf' })).toEqual([
      'reconnect.policy: expected a reconnect policy (none, fixed, linear or exponential) or a preset (aws-iot-sdk, azure-iot-sdk, mqttjs-default, paho-default)',
    ]);
  });

  it('a field the preset’s policy does not take says which it takes', () => {
    expect(problems({ preset: 'mqttjs-default', step: '1s' })).toEqual([
      'reconnect.step: mqttjs-default is a fixed policy; it takes delay, jitter, jitterShare, resetAfter, maxAttempts, serverSignals',
    ]);
  });

  it('an override is checked like the policy field it replaces', () => {
    expect(problems({ preset: 'aws-iot-sdk', multiplier: 1 })).toEqual([
      'reconnect.multiplier: expected a number above 1',
    ]);
    expect(problems({ preset: 'aws-iot-sdk', max: 'soon' })).toEqual([
      'reconnect.max: expected a duration like "30s" (units: us, ms, s, m, h)',
    ]);
  });

  it('policy objects keep their own precise messages', () => {
    expect(problems({ policy: 'fixed' })).toEqual(['reconnect.delay: required']);
    expect(problems({ policy: 'sometimes' })[0]).toMatch(
      /^reconnect.policy: expected a reconnect policy \(none, fixed, linear or exponential\) or a preset/,
    );
  });
});

describe('the policy fields presets need', () => {
  const azure = () => resolve({ preset: 'azure-iot-sdk' }).cohorts[0]!.reconnect;

  it('proportional jitter spreads the delay over ±share exactly', () => {
    expect(reconnectDelayUs(azure(), 0, 0, () => 0)).toBe(121_600);
    expect(reconnectDelayUs(azure(), 0, 0, () => 0.5)).toBe(128_000);
    expect(reconnectDelayUs(azure(), 3, 0, () => 1)).toBe(1_075_200);
  });

  it('resetAfter: the backoff restarts only after a session that long (AWS: 30 s)', () => {
    const aws = resolve({ preset: 'aws-iot-sdk' }).cohorts[0]!.reconnect;
    expect([restartsBackoff(aws, 0), restartsBackoff(aws, 29_999_999), restartsBackoff(aws, 30_000_000)]).toEqual([
      false,
      false,
      true,
    ]);
    expect(restartsBackoff(aws, NaN)).toBe(false);
    // Without resetAfter every connect restarts it, as before.
    expect(restartsBackoff(resolve({ preset: 'paho-default' }).cohorts[0]!.reconnect, 0)).toBe(true);
  });
});

describe('message stores (issue 24): each preset gives its SDK store, the scenario can change it', () => {
  const publish = { every: '1s', qos: 1 };
  const storeOf = (reconnect: unknown, store?: unknown, cohort?: Record<string, unknown>) =>
    resolve(reconnect, {
      device: { publish: store === undefined ? publish : { ...publish, store } },
      ...(cohort ? { cohorts: [{ name: 'c', share: 1, ...cohort }] } : {}),
    }).cohorts[0]?.device.publish?.store;

  it('MQTT.js, AWS CRT and Paho as their sources say; Azure and no preset keep nothing (none)', () => {
    const none = { resend: 'never', offlineQueue: 0, overflow: 'dropNewest', queueQos0: false };
    expect(storeOf({ preset: 'mqttjs-default' })).toEqual({
      resend: 'always',
      offlineQueue: null,
      overflow: 'dropNewest',
      queueQos0: true,
    });
    expect(storeOf({ preset: 'aws-iot-sdk' })).toEqual({
      resend: 'always',
      offlineQueue: null,
      overflow: 'dropNewest',
      queueQos0: false,
    });
    expect(storeOf({ preset: 'paho-default' })).toEqual({ ...none, resend: 'session' });
    expect(storeOf({ preset: 'azure-iot-sdk' })).toEqual(none);
    expect(storeOf({ policy: 'fixed', delay: '1s' })).toEqual(none);
    expect(storeOf({ preset: 'mqttjs-default', deviceDefaults: false })).toEqual(none);
  });

  it('publish.store: none or fields laid over the preset; a cohort preset applies to its own devices', () => {
    expect(storeOf({ preset: 'mqttjs-default' }, 'none')).toEqual({
      resend: 'never',
      offlineQueue: 0,
      overflow: 'dropNewest',
      queueQos0: false,
    });
    expect(storeOf({ preset: 'mqttjs-default' }, { offlineQueue: 100, overflow: 'dropOldest' })).toEqual({
      resend: 'always',
      offlineQueue: 100,
      overflow: 'dropOldest',
      queueQos0: true,
    });
    expect(storeOf({ policy: 'none' }, undefined, { reconnect: { preset: 'paho-default' } })?.resend).toBe('session');
  });

  it('a bad store is exit 2 naming the field and what was expected', () => {
    const bad = (store: unknown): string[] => {
      try {
        resolve({ policy: 'none' }, { device: { publish: { ...publish, store } } });
      } catch (err) {
        if (err instanceof HerdError) return [...err.details];
        throw err;
      }
      return [];
    };
    expect(bad('keep')).toEqual([
      'device.publish.store: expected none or an object { resend, offlineQueue, overflow, queueQos0 }',
    ]);
    expect(bad({ offlineQueue: -1 }).join('\n')).toContain('device.publish.store.offlineQueue');
    expect(bad({ overflow: 'oldest' }).join('\n')).toContain(
      'device.publish.store.overflow: expected dropOldest or dropNewest',
    );
  });
});
