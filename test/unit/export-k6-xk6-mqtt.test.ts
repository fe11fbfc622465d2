/**
 * herd's xk6-mqtt declarations (written beside every exported MQTT script) against upstream's
 * published API: xk6-mqtt's index.d.ts at the pinned version, recorded as signatures in
 * fixtures/xk6-mqtt-api.json (extracted with test/helpers/dts-api.ts from the tagged file; the
 * same file is unchanged in v0.3.0). A member added, dropped or changed on either side fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XK6_MQTT, xk6MqttDeclarations } from '../../src/export/k6-devices.js';
import { ROOT } from '../helpers/cli.js';
import { dtsApi, type ApiDecl } from '../helpers/dts-api.js';

interface Pinned {
  module: string;
  importPath: string;
  version: string;
  commit: string;
  runtimeExports: string[];
  api: Record<string, ApiDecl>;
}

const pinned = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'xk6-mqtt-api.json'), 'utf8')) as Pinned;

describe('xk6-mqtt declarations follow the upstream API', () => {
  it('pin the release the exporter names', () => {
    expect({ module: pinned.module, version: pinned.version, importPath: pinned.importPath }).toEqual({
      module: XK6_MQTT.module,
      version: XK6_MQTT.version,
      importPath: XK6_MQTT.importPath,
    });
    expect(pinned.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('declare every upstream type and member with upstream signature, QoS aside', () => {
    const ours = dtsApi(xk6MqttDeclarations());
    const { QoS: ourQoS, ...ourRest } = ours;
    const { QoS: upQoS, ...upRest } = pinned.api;
    expect(ourRest).toEqual(upRest);
    // Upstream's QoS enum does not exist at run time (the module exports only Client): its values as a union.
    expect(pinned.runtimeExports).toEqual(['Client']);
    expect(upQoS).toEqual({ kind: 'enum', members: { AtMostOnce: '0', AtLeastOnce: '1', ExactlyOnce: '2' } });
    expect(ourQoS).toEqual({ kind: 'type', type: '0 | 1 | 2' });
  });

  it('the comparison is real: a changed signature is found', () => {
    const drifted = dtsApi(xk6MqttDeclarations().replace('connect_timeout?: number;', 'connect_timeout?: string;'));
    expect(drifted).not.toEqual(dtsApi(xk6MqttDeclarations()));
    const options = drifted.ConnectOptions as Extract<ApiDecl, { kind: 'interface' }>;
    expect(options.members.connect_timeout).toEqual(['connect_timeout?: string']);
  });
});
