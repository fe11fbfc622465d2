/**
 * Every scenario in scenarios/ (globbed now, so scenarios added later are covered) must export to
 * a script that type-checks, strictly, against @types/k6 and the xk6-mqtt declarations written
 * beside it. The compiler runs in memory over virtual files placed inside the repository, so
 * "k6/…" imports resolve to node_modules/@types/k6; nothing is written to disk.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { exportK6, k6Sidecars } from '../../src/export/k6.js';
import { loadScenario } from '../../src/scenario/load.js';
import { validateScenario } from '../../src/scenario/validate.js';
import type { ResolvedScenario } from '../../src/results/resolved-scenario.js';
import type { Threshold } from '../../src/scenario/threshold-parse.js';
import { ROOT } from '../helpers/cli.js';
import { dtsFromApi, type ApiDecl } from '../helpers/dts-api.js';
import { XK6_MQTT_DTS } from '../../src/export/k6-devices.js';

const VIRTUAL_DIR = join(ROOT, '.herd-k6-typecheck');

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noUncheckedIndexedAccess: true,
  // Not exactOptionalPropertyTypes: @types/k6 itself does not compile with it.
  noEmit: true,
  target: ts.ScriptTarget.ES2020,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  // k6 has no DOM and no Node: only the language and @types/k6.
  lib: ['lib.es2020.d.ts'],
  types: ['k6'],
  skipLibCheck: false,
};

/** Type-checks `files` (name → text; the first is the entry) and returns the diagnostics. */
function typeCheck(files: Record<string, string>): string[] {
  const virtual = new Map(Object.entries(files).map(([name, text]) => [join(VIRTUAL_DIR, name), text]));
  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, onError, create) => {
    const text = virtual.get(f);
    return text === undefined
      ? getSourceFile.call(host, f, lang, onError, create)
      : ts.createSourceFile(f, text, lang, true);
  };
  const entry = join(VIRTUAL_DIR, Object.keys(files)[0] as string);
  const program = ts.createProgram([entry], COMPILER_OPTIONS, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where =
      d.file && d.start !== undefined
        ? `${d.file.fileName.replace(VIRTUAL_DIR + '/', '')}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: `
        : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

function exportFiles(s: ResolvedScenario, thresholds: readonly Threshold[], path: string): Record<string, string> {
  const script = exportK6(s, thresholds, {
    herdVersion: '0.0.0-test',
    scenarioPath: path,
    exportCommand: `herd export k6 ${path}`,
    scriptName: 'storm.ts',
  });
  return { 'storm.ts': script, ...k6Sidecars(s) };
}

const scenarioDir = join(ROOT, 'scenarios');
const bundled = readdirSync(scenarioDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

describe('every bundled scenario exports to a script that type-checks against @types/k6', () => {
  it('finds the bundled scenarios', () => {
    expect(bundled.length).toBeGreaterThan(0);
  });

  it.each(bundled)('%s', (file) => {
    const loaded = loadScenario(join(scenarioDir, file));
    const files = exportFiles(loaded.resolved, loaded.thresholds, `scenarios/${file}`);
    expect(typeCheck(files)).toEqual([]);
  });
});

describe('synthetic scenarios covering every mapping type-check too', () => {
  const base = {
    name: 'all-waves',
    target: 'mqtt://127.0.0.1:1883',
    seed: 7,
    devices: 100,
    device: {
      mqttVersion: 5,
      cleanSession: false,
      keepalive: '2s',
      username: 'u-{id}',
      password: 'p-{run}',
      clientId: 'c-{worker}-{id}',
    },
    waves: [
      { type: 'ramp', name: 'ramp', devices: 20, over: '2s' },
      { type: 'spike', name: 'spike wave!', devices: 20 },
      { type: 'steps', name: 'steps', devices: 20, steps: 4, every: '500ms' },
      { type: 'rate', name: 'poisson', rate: 10, over: '2s', arrival: 'poisson' },
      { type: 'rate', name: 'uniform', rate: 10, over: '2s' },
    ],
    hold: '3s',
    thresholds: {
      'connect.total': ['p(99.9) < 1.5s', 'avg < 200ms', 'count > 10'],
      'connect.service': 'med < 50ms',
      'errors.rate': '< 0.5%',
      'connect.successRate': '>= 99%',
      'attempts.dropped': '== 0',
      'attempts.failed': '< 5',
      'phase.mqttConnack': 'p(95) < 100ms',
      'errors.local': '== 0',
    },
  };

  it('MQTT devices, every wave type, every threshold kind', () => {
    const loaded = validateScenario(base, 'all-waves.yaml');
    expect(typeCheck(exportFiles(loaded.resolved, loaded.thresholds, 'all-waves.yaml'))).toEqual([]);
  });

  it('WebSocket devices (k6/websockets)', () => {
    const loaded = validateScenario(base, 'ws.yaml');
    const ws = {
      ...loaded.resolved,
      target: 'ws://127.0.0.1:8080/devices',
      device: { ...loaded.resolved.device, protocol: 'ws' },
    } as unknown as ResolvedScenario;
    const files = exportFiles(ws, loaded.thresholds, 'ws.yaml');
    expect(Object.keys(files)).toEqual(['storm.ts']);
    expect(files['storm.ts']).toContain("import { WebSocket } from 'k6/websockets';");
    expect(typeCheck(files)).toEqual([]);
  });

  it('an unknown protocol still type-checks (and throws at run time)', () => {
    const loaded = validateScenario(base, 'x.yaml');
    const odd = {
      ...loaded.resolved,
      device: { ...loaded.resolved.device, protocol: 'coap' },
    } as unknown as ResolvedScenario;
    expect(typeCheck(exportFiles(odd, loaded.thresholds, 'x.yaml'))).toEqual([]);
  });
});

describe('the type check is real', () => {
  it('reports a script that does not type-check', () => {
    const loaded = loadScenario(join(scenarioDir, bundled[0] as string));
    const files = exportFiles(loaded.resolved, loaded.thresholds, 'q.yaml');
    const broken = (files['storm.ts'] as string).replace(
      '"executor": "constant-arrival-rate"',
      '"executor": "constant-arrival-rat"',
    );
    expect(broken).not.toBe(files['storm.ts']);
    expect(typeCheck({ ...files, 'storm.ts': broken }).join('\n')).toMatch(/constant-arrival-rat/);
  });

  it('reports a script without its xk6-mqtt declarations', () => {
    const loaded = loadScenario(join(scenarioDir, bundled[0] as string));
    const files = exportFiles(loaded.resolved, loaded.thresholds, 'q.yaml');
    expect(typeCheck({ 'storm.ts': files['storm.ts'] as string }).join('\n')).toMatch(/xk6-mqtt\.d\.ts|k6\/x\/mqtt/);
  });

  it('reports a wrong k6 API use', () => {
    const loaded = loadScenario(join(scenarioDir, bundled[0] as string));
    const files = exportFiles(loaded.resolved, loaded.thresholds, 'q.yaml');
    const broken = (files['storm.ts'] as string).replace(
      'exec.scenario.iterationInTest',
      'exec.scenario.iterationInTests',
    );
    expect(typeCheck({ ...files, 'storm.ts': broken }).join('\n')).toMatch(/iterationInTests/);
  });
});

describe("every bundled scenario's script type-checks against upstream xk6-mqtt's own API (not herd's copy)", () => {
  // The surface of xk6-mqtt's published index.d.ts at the pinned version (fixtures/xk6-mqtt-api.json).
  const upstream = dtsFromApi(
    'k6/x/mqtt',
    (JSON.parse(readFileSync(join(ROOT, 'fixtures', 'xk6-mqtt-api.json'), 'utf8')) as { api: Record<string, ApiDecl> })
      .api,
  );

  it.each(bundled)('%s', (file) => {
    const loaded = loadScenario(join(scenarioDir, file));
    const files = exportFiles(loaded.resolved, loaded.thresholds, `scenarios/${file}`);
    if (files[XK6_MQTT_DTS] === undefined) return;
    expect(typeCheck({ ...files, [XK6_MQTT_DTS]: upstream })).toEqual([]);
  });

  it('a call upstream does not offer fails against it', () => {
    const loaded = loadScenario(join(scenarioDir, 'quickstart.yaml'));
    const files = exportFiles(loaded.resolved, loaded.thresholds, 'q.yaml');
    const broken = (files['storm.ts'] as string).replace('client.end()', 'client.close()');
    expect(broken).not.toBe(files['storm.ts']);
    expect(typeCheck({ ...files, 'storm.ts': broken, [XK6_MQTT_DTS]: upstream }).join('\n')).toMatch(/close/);
  });
});
