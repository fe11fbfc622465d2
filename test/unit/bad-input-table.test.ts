/**
 * The bad-input contract (issue 14), as one table run in-process through the real CLI (runCli with
 * an injected context): every malformed input to every command — validate, run, doctor, report,
 * merge, export, compare, target, schema — exits 2 with exactly one error message that names the
 * field, flag or file, no stack trace, nothing on stdout, and nothing written to disk. No case opens
 * a socket: each fails before the run would start (the foreign source address is only compared with
 * this machine's interfaces, never bound or contacted).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/context.js';
import { ROOT } from '../helpers/cli.js';

const DIR = mkdtempSync(join(tmpdir(), 'herd-bad-table-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const BASE = 'name: t\ndevices: 5\nwaves: [{type: ramp, over: 200ms}]\n';
const SECRET = 's3cret';

/** Writes a scenario file once; returns its absolute path. */
let fileNo = 0;
function scenarioFile(text: string, ext = 'yaml'): string {
  const p = join(DIR, 'in', `s${++fileNo}.${ext}`);
  mkdirSync(join(DIR, 'in'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
const blockNest = (n: number): string =>
  Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n';

/** [what, scenario text (BASE is prepended unless it starts with "!"), text the message must name]. */
const SCENARIOS: [string, string, string][] = [
  ['publish every 0s', 'device: {publish: {every: 0s}}', 'device.publish.every: expected at least 1ms'],
  ['publish every 500us', 'device: {publish: {every: 500us}}', 'device.publish.every: expected at least 1ms'],
  ['requests every 0s', 'device: {requests: {every: 0s}}', 'device.requests.every: expected at least 1ms'],
  ['keepalive 100000s', 'device: {keepalive: 100000s}', 'device.keepalive: expected at most 65535s'],
  ['keepalive 65536s', 'device: {keepalive: 65536s}', 'device.keepalive: expected at most 65535s'],
  ['keepalive 19h', 'device: {keepalive: 19h}', 'device.keepalive: expected at most 65535s'],
  ['connectTimeout 0s', 'device: {connectTimeout: 0s}', 'device.connectTimeout: expected at least 10ms'],
  ['connectTimeout 1us', 'device: {connectTimeout: 1us}', 'device.connectTimeout: expected at least 10ms'],
  ['connectTimeout 9ms', 'device: {connectTimeout: 9ms}', 'device.connectTimeout: expected at least 10ms'],
  [
    'cohort connectTimeout 0s',
    'cohorts: [{name: a, share: 1, device: {connectTimeout: 0s}}]',
    'cohorts[0].device.connectTimeout: expected at least 10ms',
  ],
  ['qos 3', 'device: {publish: {every: 1s, qos: 3}}', 'device.publish.qos: expected 0, 1 or 2'],
  ['qos -1', 'device: {publish: {every: 1s, qos: -1}}', 'device.publish.qos: expected 0, 1 or 2'],
  ['qos "1"', 'device: {publish: {every: 1s, qos: "1"}}', 'device.publish.qos: expected 0, 1 or 2'],
  ['requests qos 7', 'device: {requests: {every: 1s, qos: 7}}', 'device.requests.qos: expected 0, 1 or 2'],
  ['mqttVersion 4', 'device: {mqttVersion: 4}', 'device.mqttVersion: expected 3.1.1 or 5'],
  ['mqttVersion "3.1"', 'device: {mqttVersion: "3.1"}', 'device.mqttVersion: expected 3.1.1 or 5'],
  ['port 99999', 'target: mqtt://127.0.0.1:99999', 'target: port "99999" is not a port'],
  ['port 0', 'target: mqtt://127.0.0.1:0', 'target: port "0" is not a port'],
  ['port abc', 'target: mqtt://127.0.0.1:abc', 'target: port "abc" is not a port'],
  ['no host', 'target: mqtt://:1883', 'target: the URL has no host'],
  ['no host, credentials', `target: mqtt://alice:${SECRET}@:1883`, 'target: the URL has no host'],
  ['bad port, credentials', `target: mqtt://alice:${SECRET}@127.0.0.1:99999/x`, 'target: port "99999" is not a port'],
  ['scheme http', 'target: http://127.0.0.1:1883', 'target: unsupported scheme "http://"'],
  ['not a URL', 'target: "not a url"', 'target:'],
  [
    'cohort target port',
    'cohorts: [{name: a, share: 1, targets: ["mqtt://127.0.0.1:70000"]}]',
    'cohorts[0].targets[0]',
  ],
  [
    'cohort targets, two passwords',
    `target: mqtt://127.0.0.1:1883\ncohorts: [{name: a, share: 1, targets: ["mqtt://a:${SECRET}@127.0.0.1:1883", "mqtt://a:other@127.0.0.1:1884"]}]`,
    'cohorts[0].targets: the URLs carry different credentials',
  ],
  [
    'websocket with URL credentials',
    `target: ws://a:${SECRET}@127.0.0.1:8080\ndevice: {protocol: websocket}`,
    'target: credentials in the URL are for MQTT devices',
  ],
  [
    'description 10,001 chars',
    `description: "${'x'.repeat(10_001)}"`,
    'description: expected at most 10,000 characters',
  ],
  [
    'name 201 chars',
    `!name: "${'n'.repeat(201)}"\ndevices: 5\nwaves: [{type: ramp, over: 1s}]`,
    'name: expected at most 200 characters',
  ],
  ['empty name', '!name: ""\ndevices: 5\nwaves: [{type: ramp, over: 1s}]', 'name: expected non-empty text'],
  [
    'clientId 1025 chars',
    `device: {clientId: "${'c'.repeat(1025)}"}`,
    'device.clientId: expected at most 1,024 characters',
  ],
  ['5,000-deep flow nesting', `extra: ${nest(5_000)}`, 'nesting deeper than 64 levels'],
  ['65-deep flow nesting', `extra: ${nest(65)}`, 'nesting deeper than 64 levels'],
  ['100 compact dashes', `extra:\n${'- '.repeat(100)}x`, 'nesting deeper than 64 levels'],
  ['70-deep block mapping', `extra:\n${blockNest(70).replace(/^/gm, '  ')}`, 'nesting deeper than 64 levels'],
  [
    'missing CA file',
    'target: mqtts://127.0.0.1:8883\ndevice: {tls: {ca: /nonexistent/herd/ca.pem}}',
    'device.tls.ca: /nonexistent/herd/ca.pem: no such file',
  ],
  ['CA is a folder', `target: mqtts://127.0.0.1:8883\ndevice: {tls: {ca: ${ROOT}fixtures}}`, 'device.tls.ca:'],
  [
    'missing client-cert folder',
    'target: mqtts://127.0.0.1:8883\ndevice: {tls: {clientCert: /nonexistent/herd/certs}}',
    'device.tls.clientCert: /nonexistent/herd/certs',
  ],
  [
    'missing client-cert template folder',
    'target: mqtts://127.0.0.1:8883\ndevice: {tls: {clientCert: "/nonexistent/herd/d-{id}.crt"}}',
    'device.tls.clientCert: /nonexistent/herd',
  ],
  [
    'cohort CA missing',
    'target: mqtts://127.0.0.1:8883\ncohorts: [{name: a, share: 1, device: {tls: {ca: /nonexistent/c.pem}}}]',
    'cohorts[0].device.tls.ca',
  ],
  ['keepAlive', 'device: {keepAlive: 10s}', 'device.keepAlive: unknown field; did you mean keepalive?'],
  ['connectTimout', 'device: {connectTimout: 5s}', 'device.connectTimout: unknown field; did you mean connectTimeout?'],
  ['devcies', '!name: t\ndevcies: 5\nwaves: [{type: ramp, over: 1s}]', 'devcies: unknown field; did you mean devices?'],
  [
    'wave ovr',
    '!name: t\ndevices: 5\nwaves: [{type: ramp, ovr: 1s}]',
    'waves[0].ovr: unknown field; did you mean over?',
  ],
  ['publish evry', 'device: {publish: {evry: 1s}}', 'device.publish.evry: unknown field; did you mean every?'],
  [
    'reconnect intial',
    'reconnect: {policy: exponential, intial: 1s, max: 5s}',
    'reconnect.intial: unknown field; did you mean initial?',
  ],
  [
    'tls insecur',
    'target: mqtts://127.0.0.1:8883\ndevice: {tls: {insecur: true}}',
    'device.tls.insecur: unknown field; did you mean insecure?',
  ],
  ['totally unknown field', 'zzzzzz: 1', 'zzzzzz: unknown field'],
  [
    'threshold connect.totl',
    'thresholds: {connect.totl: ["p(99) < 1s"]}',
    'thresholds.connect.totl: unknown metric; did you mean connect.total?',
  ],
  ['threshold conect.total', 'thresholds: {conect.total: ["p(99) < 1s"]}', 'did you mean connect.total?'],
  ['threshold errors.rat', 'thresholds: {errors.rat: ["< 1%"]}', 'did you mean errors.rate?'],
  ['threshold nonsense metric', 'thresholds: {qqqqqqqq: ["< 1"]}', 'thresholds.qqqqqqqq: unknown metric'],
  ['threshold bad expression', 'thresholds: {connect.total: ["p(99) <"]}', 'thresholds.connect.total'],
  ['wave type rmp', '!name: t\ndevices: 5\nwaves: [{type: rmp, over: 1s}]', 'waves[0].type: expected a wave with type'],
  ['devices 0', '!name: t\ndevices: 0\nwaves: [{type: ramp, over: 1s}]', 'devices: expected a number greater than 0'],
  ['devices -5', '!name: t\ndevices: -5\nwaves: [{type: ramp, over: 1s}]', 'devices:'],
  ['devices 1.5', '!name: t\ndevices: 1.5\nwaves: [{type: ramp, over: 1s}]', 'devices: expected a whole number'],
  ['devices "many"', '!name: t\ndevices: many\nwaves: [{type: ramp, over: 1s}]', 'devices:'],
  [
    'devices 20,000,000',
    '!name: t\ndevices: 20000000\nwaves: [{type: ramp, over: 1s}]',
    'devices: expected at most 10,000,000',
  ],
  ['reconnect policy bogus', 'reconnect: {policy: bogus}', 'reconnect'],
  [
    'reconnect multiplier 1',
    'reconnect: {policy: exponential, initial: 1s, max: 5s, multiplier: 1}',
    'reconnect.multiplier',
  ],
  ['hold forever', 'hold: forever', 'hold: expected a duration'],
  ['duration 100 days', 'duration: 2400h', 'duration: expected a duration of at most 24 days'],
  ['seed -1', 'seed: -1', 'seed'],
  ['cohort shares 50%', 'cohorts: [{name: a, share: 50%}]', 'cohorts: the shares add up to 50%'],
  ['version 2', 'version: 2', 'version: expected 1'],
  [
    'outage share 2',
    '!name: t\ndevices: 5\nwaves: [{type: ramp, over: 1s}, {type: outage, at: 2s, offline: 1s, share: 2}]',
    'waves[1].share',
  ],
  ['payloadBytes 10', 'device: {publish: {every: 1s, payloadBytes: 10}}', 'device.publish.payloadBytes'],
  [
    'websocket publishing',
    'device: {protocol: websocket, publish: {every: 1s}}',
    'device.publish: telemetry is for MQTT devices',
  ],
  ['steps 0', '!name: t\ndevices: 5\nwaves: [{type: steps, steps: 0, every: 1s}]', 'waves[0].steps'],
  ['top level is a list', '!- a\n- b\n', 'expected a mapping of scenario fields'],
  ['empty file', '!', 'expected a mapping of scenario fields'],
  ['unclosed flow', '!name: [t\n', 'not valid YAML or JSON'],
  ['duplicate key', '!name: a\nname: b\ndevices: 5\nwaves: [{type: ramp, over: 1s}]', 'not valid YAML or JSON'],
  ['tab indentation', '!name: t\ndevices: 5\nwaves:\n\t- {type: ramp, over: 1s}', 'not valid YAML or JSON'],
];

/*
 * Issue 22: inputs generated by class. Each is a whole scenario (JSON is YAML) built from a small
 * valid one with one field set, so the message must name exactly that field.
 */
type Json = Record<string, unknown>;
const baseScenario = (): Json => ({ name: 't', devices: 5, waves: [{ type: 'ramp', over: '200ms' }] });
/** Sets `path` (dots; [n] for list items) on a copy of the base scenario, creating objects on the way. */
function withField(path: string, value: unknown, extra: Json = {}): string {
  const root: Json = { ...baseScenario(), ...structuredClone(extra) };
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let at: Json = root;
  keys.slice(0, -1).forEach((k, i) => {
    const next = keys[i + 1] as string;
    if (at[k] === undefined) at[k] = /^\d+$/.test(next) ? [] : {};
    at = at[k] as Json;
  });
  at[keys.at(-1) as string] = value;
  return '!' + JSON.stringify(root);
}

/** Over the cap Node's timers hold: 25 days three ways, and 1 ms past 2^31 − 1 ms. */
const TOO_LONG = ['600h', '36000m', '2147483648ms'];
const TIMER_CAP = 'expected a duration of at most 24 days (576h)';
const ws = { device: { protocol: 'websocket' }, target: 'ws://127.0.0.1:8080' };
/** [path, the scenario around it]: every duration field of the scenario. */
const DURATION_FIELDS: [string, Json][] = [
  ['device.connectTimeout', {}],
  ['device.sessionExpiry', { device: { mqttVersion: 5 } }],
  ['device.publish.stopBeforeEnd', { device: { publish: { every: '1s' } } }],
  ['device.publish.every', {}],
  ['device.requests.every', {}],
  ['device.requests.stopBeforeEnd', { device: { requests: { every: '1s' } } }],
  ['device.downlink.every', {}],
  ['device.downlink.stopBeforeEnd', { device: { downlink: { every: '1s' } } }],
  ['device.downlink.from', { device: { downlink: { every: '1s' } } }],
  ['device.downlink.until', { device: { downlink: { every: '1s' } } }],
  ['reconnect.delay', { reconnect: { policy: 'fixed' } }],
  ['reconnect.resetAfter', { reconnect: { policy: 'fixed', delay: '1s' } }],
  ['reconnect.initial', { reconnect: { policy: 'exponential', max: '5s' } }],
  ['reconnect.max', { reconnect: { policy: 'exponential', initial: '1s' } }],
  ['reconnect.step', { reconnect: { policy: 'linear', initial: '1s', max: '5s' } }],
  ['waves[0].over', {}],
  ['waves[0].at', {}],
  [
    'waves[1].at',
    {
      waves: [
        { type: 'ramp', over: '1s' },
        { type: 'outage', offline: '1s' },
      ],
    },
  ],
  [
    'waves[1].offline',
    {
      waves: [
        { type: 'ramp', over: '1s' },
        { type: 'outage', at: '1s' },
      ],
    },
  ],
  [
    'waves[1].over',
    {
      waves: [
        { type: 'ramp', over: '1s' },
        { type: 'churn', perMinute: 0.1 },
      ],
    },
  ],
  ['waves[0].every', { waves: [{ type: 'steps', steps: 2 }] }],
  ['hold', {}],
  ['duration', {}],
  ['cohorts[0].device.connectTimeout', { cohorts: [{ name: 'a', share: 1 }] }],
  ['target.embedded.outages[0].at', { target: { embedded: { outages: [{ duration: '1s' }] } } }],
  ['target.embedded.outages[0].duration', { target: { embedded: { outages: [{ at: '1s' }] } } }],
  ['breakpoint.hold', { breakpoint: {} }],
  ['breakpoint.drain', { breakpoint: {} }],
  ['breakpoint.settle', { breakpoint: {} }],
  ['breakpoint.measure', { breakpoint: {} }],
];
const durationCases: [string, string, string][] = DURATION_FIELDS.flatMap(([path, extra]) =>
  TOO_LONG.map((v): [string, string, string] => [
    `${path} ${v} (over the timer cap)`,
    withField(path, v, extra),
    `${path}: ${TIMER_CAP}`,
  ]),
);
// Waves and hold each within the cap, the run as a whole beyond it.
const runLength: [string, string, string][] = [
  [
    'waves end at 500h, hold 100h',
    withField('hold', '100h', { waves: [{ type: 'ramp', at: '500h', over: '1s' }] }),
    `waves: the run would last`,
  ],
  [
    'ramp at 300h over 300h',
    withField('waves', [{ type: 'ramp', at: '300h', over: '300h' }]),
    `waves: the run would last`,
  ],
  ['steps 11 every 60h', withField('waves', [{ type: 'steps', steps: 11, every: '60h' }]), `waves: the run would last`],
  [
    'rate over 400h after a ramp over 200h',
    withField('waves', [
      { type: 'ramp', over: '200h', devices: 1 },
      { type: 'rate', rate: 0.0001, over: '400h' },
    ]),
    'waves',
  ],
  [
    'outage at 570h offline 10h',
    withField(
      'waves',
      [
        { type: 'ramp', over: '1s' },
        { type: 'outage', at: '570h', offline: '10h' },
      ],
      { hold: '0s' },
    ),
    `waves: the run would last`,
  ],
];

/** Keepalive fractions: MQTT carries whole seconds (1.4 s went out as 1 and was timed as 2). */
const KEEPALIVE_FRACTIONS = [
  '1.4s',
  '0.4s',
  '1500ms',
  '2500ms',
  '0.5s',
  '999ms',
  '1001ms',
  '59.9s',
  '100us',
  '1.000001s',
];
const keepaliveCases: [string, string, string][] = KEEPALIVE_FRACTIONS.flatMap((v): [string, string, string][] => [
  [`keepalive ${v}`, withField('device.keepalive', v), 'device.keepalive: expected whole seconds'],
  [
    `cohort keepalive ${v}`,
    withField('cohorts[0].device.keepalive', v, { cohorts: [{ name: 'a', share: 1 }] }),
    'cohorts[0].device.keepalive: expected whole seconds',
  ],
]);

/** Placeholders that would stay unexpanded (all devices one id) or divide by zero. */
const BAD_PLACEHOLDERS: [string, string][] = [
  ['{id/0}', '{id/0}: expected {id/N} or {id%N}'],
  ['{id%0}', '{id%0}: expected {id/N} or {id%N}'],
  ['{id/-1}', '{id/-1}: expected {id/N} or {id%N}'],
  ['{id%-3}', '{id%-3}: expected'],
  ['{id/1.5}', '{id/1.5}: expected'],
  ['{id/x}', '{id/x}: expected'],
  ['{id/}', '{id/}: expected'],
  ['{id*2}', '{id*2}: expected'],
  ['{ID}', 'unknown placeholder {ID}'],
  ['{Id}', 'unknown placeholder {Id}'],
  ['{ids}', 'unknown placeholder {ids}'],
  ['{device}', 'unknown placeholder {device}'],
  ['{name}', 'unknown placeholder {name}'],
  ['{run/2}', '{run/2}: {run} takes no operator'],
  ['{cohort%3}', '{cohort%3}: {cohort} takes no operator'],
];
const templateCases: [string, string, string][] = [];
for (const [field, extra] of [
  ['device.clientId', {}],
  ['device.username', {}],
  ['device.password', { device: { username: 'u' } }],
  ['device.publish.topic', { device: { publish: { every: '1s' } } }],
  ['cohorts[0].device.clientId', { cohorts: [{ name: 'a', share: 1 }] }],
] as [string, Json][]) {
  for (const [p, says] of BAD_PLACEHOLDERS) {
    if (field.endsWith('topic') && p === '{run/2}') continue;
    templateCases.push([`${field} ${p}`, withField(field, `x-${p}`, extra), `${field}: ${says}`]);
  }
}
templateCases.push(
  [
    'topic {worker} (topics do not expand it)',
    withField('device.publish.topic', 'a/{worker}', { device: { publish: { every: '1s' } } }),
    'device.publish.topic: unknown placeholder {worker}',
  ],
  ['hello {ID}', withField('device.hello', '{"id":"{ID}"}', ws), 'device.hello: unknown placeholder {ID}'],
  ['hello {id%0}', withField('device.hello', 'hi {id%0}', ws), 'device.hello: {id%0}: expected'],
  ['hello {nme}', withField('device.hello', 'hi {nme}', ws), 'device.hello: unknown placeholder {nme}'],
);

/** MQTT strings: no U+0000 and no control characters; publish topics no wildcards. */
const CONTROL = ['\u0000', '\u0001', '\u0009', '\u000a', '\u001b', '\u001f', '\u007f', '\u0085', '\u009f'];
const mqttStringCases: [string, string, string][] = [];
for (const [field, extra] of [
  ['device.clientId', {}],
  ['device.username', {}],
  ['device.publish.topic', { device: { publish: { every: '1s' } } }],
] as [string, Json][]) {
  for (const c of CONTROL) {
    const code = `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    mqttStringCases.push([
      `${field} with ${code}`,
      withField(field, `a${c}b-{id}`, extra),
      `${field}: contains the control character ${code}`,
    ]);
  }
}
const pub = { device: { publish: { every: '1s' } } };
for (const t of ['a/+', '#', 'a/#', 'herd/+/{id}', '+', 'x#y', 'sport+', '{id}/#']) {
  mqttStringCases.push([
    `publish topic ${t}`,
    withField('device.publish.topic', t, pub),
    'device.publish.topic: contains the wildcard',
  ]);
}
mqttStringCases.push(
  [
    'cohort name with "+" fills {cohort} in a topic',
    withField('device.publish.topic', 'a/{cohort}/{id}', { ...pub, cohorts: [{ name: 'a+b', share: 1 }] }),
    'cohorts[0].name: contains the wildcard "+"',
  ],
  [
    'cohort name with ESC fills {cohort} in a client id',
    withField('device.clientId', '{cohort}-{id}', { cohorts: [{ name: 'a\u001bb', share: 1 }] }),
    'cohorts[0].name: contains the control character U+001B',
  ],
);

/** RFC 6455: a subprotocol is a token. */
const subprotocolCases: [string, string, string][] = [
  'a b',
  'a,b',
  '"mqtt"',
  'a;b',
  'a/b',
  'a(b)',
  'mqtté',
  'a\tb',
  'a:b',
  'a@b',
  '{x}',
  '[x]',
  'a=b',
  ' mqtt',
  'mqtt ',
  'a?b',
].map((v) => [
  `subprotocol ${JSON.stringify(v)}`,
  withField('device.subprotocol', v, ws),
  'device.subprotocol: expected a token',
]);

/** A password with no user name: MQTT sends none (mqtt-packet killed every worker). */
const credentialCases: [string, string, string][] = [
  ['password alone, MQTT 3.1.1', withField('device.password', 'pw'), 'device.password: a password needs a user name'],
  [
    'password alone, MQTT 5',
    withField('device.password', 'pw', { device: { mqttVersion: 5 } }),
    'device.password: a password needs a user name',
  ],
  ['password template alone', withField('device.password', 'p-{id}'), 'device.password: a password needs a user name'],
  [
    'cohort password alone',
    withField('cohorts[0].device.password', 'pw', { cohorts: [{ name: 'a', share: 1 }] }),
    'cohorts[0].device.password: a password needs a user name',
  ],
  [
    'URL mqtt://:pw@',
    withField('target', `mqtt://:${SECRET}@127.0.0.1:1883`),
    'target: the URL has a password but no user name',
  ],
  [
    'URL mqtts://:pw@',
    withField('target', `mqtts://:${SECRET}@127.0.0.1:8883`),
    'target: the URL has a password but no user name',
  ],
  [
    'URL ws://:pw@ (MQTT over WebSocket)',
    withField('target', `ws://:${SECRET}@127.0.0.1:8080/mqtt`),
    'target: the URL has a password but no user name',
  ],
  [
    'cohort targets :pw@',
    withField('cohorts', [{ name: 'a', share: 1, targets: [`mqtt://:${SECRET}@127.0.0.1:1883`] }]),
    'cohorts[0].targets: the URL has a password but no user name',
  ],
];

/** The embedded target takes 3 consecutive ports per process (5 with TLS): all must exist. */
const portCases: [string, string, string][] = [
  [65535, {}],
  [65534, {}],
  [65532, { tls: true }],
  [65534, { tls: true }],
  [65531, { processes: 2 }],
  [65300, { processes: 64, tls: true }],
].map(([port, o]) => [
  `embedded port ${String(port)} ${JSON.stringify(o)}`,
  withField('target.embedded.port', port, { target: { embedded: o } }),
  'target.embedded.port: expected at most',
]);

/** Breakpoint levels are judged on per-second counts. */
const breakpointCases: [string, string, string][] = [
  ['settle', '1500ms'],
  ['settle', '0.5s'],
  ['settle', '2.5s'],
  ['settle', '0s'],
  ['measure', '1.5s'],
  ['measure', '10500ms'],
  ['measure', '999ms'],
  ['measure', '0s'],
].map(([f, v]) => [`breakpoint.${f} ${v}`, withField(`breakpoint.${f}`, v), `breakpoint.${f}: expected`]);

/** Where issue 22's inputs start in SCENARIOS: these also go through `herd breakpoint`. */
const ISSUE22_FROM = SCENARIOS.length;
SCENARIOS.push(
  ['duration 30 days (was the old cap)', 'duration: 720h', `duration: ${TIMER_CAP}`],
  ...durationCases,
  ...runLength,
  ...keepaliveCases,
  ...templateCases,
  ...mqttStringCases,
  ...subprotocolCases,
  ...credentialCases,
  ...portCases,
  ...breakpointCases,
);

interface Case {
  what: string;
  argv: string[];
  mention: string;
}

const cases: Case[] = [];
let outNo = 0;
const freshOut = (): string => join(DIR, 'out', `o${++outNo}`);

for (const [i, [what, body, mention]] of SCENARIOS.entries()) {
  const file = scenarioFile(body.startsWith('!') ? body.slice(1) : BASE + body + '\n');
  cases.push({ what: `validate: ${what}`, argv: ['validate', file], mention });
  const out = freshOut();
  cases.push({ what: `run: ${what}`, argv: ['run', file, '--out', out, '-q'], mention });
  cases.push({ what: `doctor: ${what}`, argv: ['doctor', file], mention });
  const script = join(DIR, 'out', `k6-${outNo}.ts`);
  cases.push({ what: `export k6: ${what}`, argv: ['export', 'k6', file, '-o', script], mention });
  if (i >= ISSUE22_FROM)
    cases.push({ what: `breakpoint: ${what}`, argv: ['breakpoint', file, '--out', freshOut(), '-q'], mention });
}

const valid = scenarioFile(BASE);
const aFile = join(DIR, 'a-file');
writeFileSync(aFile, 'x\n');
const aFolder = join(DIR, 'a-folder');
mkdirSync(aFolder);
const results = join(ROOT, 'fixtures', 'results-quickstart.json');
const notJson = join(DIR, 'not.json');
writeFileSync(notJson, '{ nope');
const foreignJson = join(DIR, 'foreign.json');
writeFileSync(foreignJson, '{"hello": "world"}\n');

/** [what, argv, mention]: flags and files of every command. */
const FLAGS: [string, string[], string][] = [
  ['run --devices 0', ['run', valid, '--devices', '0'], '--devices'],
  ['run --devices abc', ['run', valid, '--devices', 'abc'], '--devices'],
  ['run --scale 0', ['run', valid, '--scale', '0'], '--scale'],
  [
    'run --scale 0.0001 (0 devices)',
    ['run', valid, '--scale', '0.0001'],
    '--scale 0.0001: 5 devices × 0.0001 rounds to 0 devices',
  ],
  ['run --scale 0.05 (0 devices)', ['run', valid, '--scale', '0.05'], '--scale 0.05'],
  ['run --devices 1 --scale 0.4', ['run', valid, '--devices', '1', '--scale', '0.4'], '--scale 0.4'],
  ['run --scale 5000', ['run', valid, '--scale', '5000'], '--scale'],
  ['run --workers 0', ['run', valid, '--workers', '0'], '--workers'],
  ['run --seed -1', ['run', valid, '--seed', '-1'], '--seed'],
  ['run --shard 0/4', ['run', valid, '--shard', '0/4'], '--shard'],
  ['run --shard 5/4', ['run', valid, '--shard', '5/4'], '--shard'],
  ['run --start-at yesterday', ['run', valid, '--start-at', 'yesterday'], '--start-at'],
  ['run --on-worker-failure maybe', ['run', valid, '--on-worker-failure', 'maybe'], '--on-worker-failure'],
  ['run --target-profile bogus', ['run', valid, '--target-profile', 'bogus'], '--target-profile'],
  ['run --target http', ['run', valid, '--target', 'http://127.0.0.1:1883'], '--target'],
  ['run --target port 0 with a password', ['run', valid, '--target', `mqtt://u:${SECRET}@127.0.0.1:0`], '--target'],
  ['run --target without host', ['run', valid, '--target', 'mqtt://:1883'], '--target'],
  [
    'run --source-ips 192.0.2.10',
    ['run', valid, '--source-ips', '192.0.2.10'],
    '--source-ips: 192.0.2.10 is not an address of this machine',
  ],
  ['run --source-ips 300.1.1.1', ['run', valid, '--source-ips', '300.1.1.1'], '--source-ips'],
  ['run --source-ips mixed', ['run', valid, '--source-ips', '127.0.0.2,198.51.100.7'], '--source-ips: 198.51.100.7'],
  ['run --max-handshakes 0', ['run', valid, '--max-handshakes', '0'], '--max-handshakes'],
  ['run --metrics-port abc', ['run', valid, '--metrics-port', 'abc'], '--metrics-port'],
  ['run --webhook-sink 99999', ['run', valid, '--webhook-sink', '99999'], '--webhook-sink'],
  ['run --out /proc/herd-out', ['run', valid, '--out', '/proc/herd-out'], '--out: /proc/herd-out is on procfs'],
  ['run --out /sys/herd-out', ['run', valid, '--out', '/sys/herd-out'], '--out: /sys/herd-out is on sysfs'],
  ['run --out under a file', ['run', valid, '--out', join(aFile, 'sub')], '--out'],
  ['run --bogus', ['run', valid, '--bogus'], "unknown option '--bogus'"],
  ['run without a scenario', ['run'], "missing required argument 'scenario'"],
  [
    'run missing scenario file',
    ['run', join(DIR, 'nope.yaml')],
    'nope.yaml: cannot read the scenario file (no such file)',
  ],
  ['run scenario is a folder', ['run', aFolder], 'a-folder: cannot read the scenario file (is a directory)'],
  ['validate --scale 0.0001', ['validate', valid, '--scale', '0.0001'], '--scale 0.0001'],
  ['validate --scale -1', ['validate', valid, '--scale', '-1'], '--scale'],
  ['validate --devices 0', ['validate', valid, '--devices', '0'], '--devices'],
  ['validate missing file', ['validate', join(DIR, 'nope.yaml')], 'nope.yaml'],
  ['validate a folder', ['validate', aFolder], 'a-folder'],
  ['validate --bogus', ['validate', valid, '--bogus'], "unknown option '--bogus'"],
  ['doctor --scale 0', ['doctor', valid, '--scale', '0'], '--scale'],
  ['doctor --scale 0.0001', ['doctor', valid, '--scale', '0.0001'], '--scale 0.0001'],
  ['doctor --workers 0', ['doctor', valid, '--workers', '0'], '--workers'],
  ['doctor --devices x', ['doctor', valid, '--devices', 'x'], '--devices'],
  [
    'doctor --source-ips 192.0.2.10',
    ['doctor', valid, '--source-ips', '192.0.2.10'],
    '--source-ips: 192.0.2.10 is not an address of this machine',
  ],
  ['doctor missing file', ['doctor', join(DIR, 'nope.yaml')], 'nope.yaml'],
  ['report missing file', ['report', join(DIR, 'nope.json')], 'nope.json'],
  ['report not JSON', ['report', notJson], 'not.json'],
  ['report foreign JSON', ['report', foreignJson], 'foreign.json'],
  ['report a folder', ['report', aFolder], 'a-folder'],
  ['report -f bogus', ['report', results, '-f', 'bogus'], '--format'],
  [
    'report -o a folder',
    ['report', results, '-f', 'md', '-o', aFolder],
    `-o: ${aFolder} is a folder; expected a file name`,
  ],
  ['report -o on procfs', ['report', results, '-o', '/proc/herd.md'], '-o: /proc is on procfs'],
  ['report -o under a file', ['report', results, '-o', join(aFile, 'x.md')], '-o'],
  ['merge -o a folder', ['merge', results, results, '-o', aFolder], `-o: ${aFolder} is a folder`],
  ['merge without -o', ['merge', results, results], "required option '-o, --output <file>' not specified"],
  [
    'merge missing shard',
    ['merge', results, join(DIR, 'nope.json'), '-o', join(DIR, 'out', 'merged.json')],
    'nope.json',
  ],
  ['merge not JSON', ['merge', results, notJson, '-o', join(DIR, 'out', 'merged2.json')], 'not.json'],
  ['merge foreign JSON', ['merge', foreignJson, results, '-o', join(DIR, 'out', 'merged3.json')], 'foreign.json'],
  ['compare missing file', ['compare', results, join(DIR, 'nope.json')], 'nope.json'],
  ['compare not JSON', ['compare', notJson, results], 'not.json'],
  ['compare --max-regression bogus', ['compare', results, results, '--max-regression', 'bogus'], '--max-regression'],
  ['compare --tolerance foo=1', ['compare', results, results, '--tolerance', 'foo=1'], '--tolerance'],
  ['compare -f bogus', ['compare', results, results, '-f', 'bogus'], '--format'],
  ['export -o a folder', ['export', 'k6', valid, '-o', aFolder], `-o: ${aFolder} is a folder`],
  ['export -o ""', ['export', 'k6', valid, '-o', ''], '-o'],
  ['export --target bogus', ['export', 'k6', valid, '--target', 'bogus://x'], '--target'],
  ['export --scale 0.0001', ['export', 'k6', valid, '--scale', '0.0001'], '--scale 0.0001'],
  ['export k7', ['export', 'k7', valid], "unknown command 'k7'"],
  ['target --port 99999', ['target', '--port', '99999'], '--port'],
  ['target --processes 0', ['target', '--processes', '0'], '--processes'],
  ['target --processes 100', ['target', '--processes', '100'], '--processes'],
  ['target --max-connections -1', ['target', '--max-connections', '-1'], '--max-connections'],
  ['target --admission bogus', ['target', '--admission', 'bogus'], '--admission'],
  ['target --outage x', ['target', '--outage', 'x'], '--outage'],
  ['target --message-loss-rate 2', ['target', '--message-loss-rate', '2'], '--message-loss-rate'],
  ['target --host 192.0.2.1 is not loopback', ['target', '--host', '192.0.2.1'], '--host'],
  ['target --bogus', ['target', '--bogus'], "unknown option '--bogus'"],
  ['schema --bogus', ['schema', '--bogus'], "unknown option '--bogus'"],
  ['schema with an argument', ['schema', 'extra'], 'too many arguments'],
  ['no such command', ['frobnicate'], "unknown command 'frobnicate'"],
];
/** Issue 22: flags of the same classes. */
const FLAGS_22: [string, string[], string][] = [
  [
    'run --start-at an hour ago',
    ['run', valid, '--start-at', new Date(Date.now() - 3_600_000).toISOString()],
    '--start-at: ',
  ],
  ['run --start-at 1970', ['run', valid, '--start-at', '1970-01-01T00:00:00Z'], 'in the past'],
  [
    'run --start-at a second ago',
    ['run', valid, '--start-at', new Date(Date.now() - 1_000).toISOString()],
    'in the past',
  ],
  [
    'run --source-ips v4, target [::1]',
    ['run', valid, '--source-ips', '127.0.0.2', '--target', 'mqtt://[::1]:1883'],
    '--source-ips: IPv4 source addresses cannot reach the IPv6 target ::1',
  ],
  [
    'doctor --source-ips v4, target [::1]',
    ['doctor', scenarioFile(BASE + 'target: mqtt://[::1]:1883\n'), '--source-ips', '127.0.0.2'],
    '--source-ips: IPv4 source addresses cannot reach the IPv6 target ::1',
  ],
  [
    'run --source-ips v4 range, ws://[::1]',
    ['run', valid, '--source-ips', '127.0.0.2-127.0.0.4', '--target', 'ws://[::1]:8080/mqtt'],
    '--source-ips: IPv4 source addresses cannot reach the IPv6 target',
  ],
  [
    'run --source-ips v4, embedded host ::1',
    ['run', scenarioFile(BASE + 'target: {embedded: {host: "::1"}}\n'), '--source-ips', '127.0.0.2'],
    '--source-ips: IPv4 source addresses cannot reach the IPv6 target ::1',
  ],
  [
    'run --source-ips v4, cohort target [::1]',
    [
      'run',
      scenarioFile(
        BASE + 'target: mqtt://127.0.0.1:1883\ncohorts: [{name: a, share: 1, targets: ["mqtt://[::1]:1883"]}]\n',
      ),
      '--source-ips',
      '127.0.0.2',
    ],
    '--source-ips: IPv4 source addresses cannot reach the IPv6 target ::1',
  ],
  ['run --source-ips v6', ['run', valid, '--source-ips', '::1'], '--source-ips: "::1" is not an IPv4 address'],
  ['target --outage 1s,600h', ['target', '--outage', '1s,600h'], 'duration: expected a duration of at most 24 days'],
  ['target --outage 600h,1s', ['target', '--outage', '600h,1s'], 'at: expected a duration of at most 24 days'],
  [
    'target --outage 2147483648ms,1s',
    ['target', '--outage', '2147483648ms,1s'],
    'at: expected a duration of at most 24 days',
  ],
  ['target --port 65535', ['target', '--port', '65535'], 'port: expected at most 65533'],
  ['target --port 65533 --tls', ['target', '--port', '65533', '--tls'], 'port: expected at most 65531'],
  ['breakpoint --settle 1.5s', ['breakpoint', valid, '--settle', '1.5s'], '--settle: expected whole seconds'],
  [
    'breakpoint --settle 0s',
    ['breakpoint', valid, '--settle', '0s'],
    '--settle: expected whole seconds of at least 1s',
  ],
  ['breakpoint --measure 1500ms', ['breakpoint', valid, '--measure', '1500ms'], '--measure: expected whole seconds'],
  [
    'breakpoint --measure 600h',
    ['breakpoint', valid, '--measure', '600h'],
    '--measure: expected a duration of at most 24 days',
  ],
  [
    'breakpoint --settle 2147483648ms',
    ['breakpoint', valid, '--settle', '2147483648ms'],
    '--settle: expected a duration of at most 24 days',
  ],
  ['breakpoint --measure x', ['breakpoint', valid, '--measure', 'x'], '--measure: expected a duration like'],
];
/** The table as issue 14 left it: four commands per scenario input, and its flags. */
const ISSUE14_CASES = ISSUE22_FROM * 4 + FLAGS.length;
for (const [what, argv, mention] of [...FLAGS, ...FLAGS_22]) {
  if ((argv[0] === 'run' || argv[0] === 'breakpoint') && argv.length > 1 && !argv.includes('--out')) {
    const out = freshOut();
    cases.push({ what, argv: [...argv, '--out', out, '-q'], mention });
  } else cases.push({ what, argv, mention });
}

function context(argv: string[]): { ctx: CliContext; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  // Asserted rather than annotated: main's CliContext also carries wallClockMs, given here.
  const ctx = {
    argv,
    env: { NO_COLOR: '1', CI: '1' },
    cwd: DIR,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    wallClockMs: () => Date.now(),
    onSignal: () => () => undefined,
  } as CliContext;
  return { ctx, out: () => out, err: () => err };
}

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('bad input, every command: exit 2, one message naming the field or file, nothing written', () => {
  it(`covers at least 200 malformed inputs (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(new Set(cases.map((c) => (c.argv[0] === 'export' ? 'export' : c.argv[0]))).size).toBeGreaterThanOrEqual(10);
  });

  it(`issue 22 adds at least 400 inputs of its classes (${cases.length - ISSUE14_CASES})`, () => {
    expect(cases.length - ISSUE14_CASES).toBeGreaterThanOrEqual(400);
  });

  it.each(cases.map((c) => [c.what, c] as const))('%s', async (_what, c) => {
    const before = tree(DIR);
    const { ctx, out, err } = context(c.argv);
    const code = await runCli(ctx);
    const stderr = err();
    expect(code, `exit code; stderr:\n${stderr}`).toBe(2);
    expect(stderr, 'names the field, flag or file').toContain(c.mention);
    // One message: one "error" line (a scenario's problems are its indented details).
    expect(
      stderr.split('\n').filter((l) => /^error\b/.test(l)),
      stderr,
    ).toHaveLength(1);
    expect(stderr, 'no stack trace').not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
    expect(stderr + out(), 'no URL password').not.toContain(SECRET);
    expect(out(), 'nothing on stdout').toBe('');
    expect(tree(DIR), 'nothing written').toEqual(before);
  });
});
