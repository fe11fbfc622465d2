/**
 * The commands in the deployment examples are real: every herd flag they use is one the built CLI
 * lists in its --help, the scenarios they run are valid, and their own shell scripts, run here as
 * written (mount paths mapped to temp folders, `herd` on PATH, artifacts copied where
 * actions/download-artifact would put them), shard, merge and report against a loopback target
 * with the exit codes the examples promise.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Results } from '../../src/results/types.js';
import { HERD_BIN, ROOT, startHerdTarget } from '../helpers/cli.js';
import { herdInProcess } from '../helpers/in-process.js';

type Obj = Record<string, unknown>;
const EXAMPLES = join(ROOT, 'examples');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function yamlDocs(path: string): Obj[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as Obj);
}

const k8sDocs = walk(join(EXAMPLES, 'kubernetes'))
  .filter((f) => /\.ya?ml$/.test(f))
  .flatMap(yamlDocs);
const workflow = yamlDocs(join(EXAMPLES, 'github-actions', 'nightly.yml'))[0] as Obj;

function k8s(kind: string, name: string): Obj {
  const d = k8sDocs.find((x) => x.kind === kind && (x.metadata as Obj).name === name);
  if (d === undefined) throw new Error(`${kind}/${name} not found in examples/kubernetes`);
  return d;
}

function jobContainer(name: string): Obj {
  const spec = ((k8s('Job', name).spec as Obj).template as Obj).spec as Obj;
  return (spec.containers as Obj[])[0] as Obj;
}

function containerScript(c: Obj): string {
  return [...((c.command as string[] | undefined) ?? []), ...((c.args as string[] | undefined) ?? [])].join('\n');
}

function literalEnv(c: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of (c.env as Obj[] | undefined) ?? []) if (typeof e.value === 'string') out[e.name as string] = e.value;
  return out;
}

function workflowStep(job: string, name: string): Obj {
  const steps = ((workflow.jobs as Obj)[job] as Obj).steps as Obj[];
  const s = steps.find((x) => x.name === name || x.id === name);
  if (s === undefined) throw new Error(`step ${name} not found in job ${job}`);
  return s;
}

/** Shell code blocks of the Markdown that documents the examples. */
function markdownShell(path: string): string[] {
  return [...readFileSync(path, 'utf8').matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

/** Every herd invocation in a shell script: its subcommand and the flags it passes. */
function herdCommands(script: string): { sub: string; flags: string[]; line: string }[] {
  const lines = script
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, ''));
  const found: { sub: string; flags: string[]; line: string }[] = [];
  for (const line of lines) {
    // `herd export k6 …`: export's options are those of its k6 subcommand.
    for (const m of line.matchAll(
      /(?:^|[\s;&|(=])(?:\S*bin\/herd\.js|herd)\s+((?:export\s+)?[a-z][a-z0-9]*)\b([^;&|>]*)/g,
    )) {
      const flags = (m[2] as string)
        .split(/\s+/)
        .filter((t) => /^--?[A-Za-z]/.test(t))
        .map((t) => t.replace(/=.*$/, ''));
      found.push({ sub: (m[1] as string).replace(/\s+/, ' '), flags, line: line.trim() });
    }
  }
  return found;
}

function sources(): { where: string; script: string }[] {
  const out: { where: string; script: string }[] = [];
  for (const d of k8sDocs) {
    if (d.kind !== 'Job' && d.kind !== 'Pod') continue;
    const spec = d.kind === 'Job' ? (((d.spec as Obj).template as Obj).spec as Obj) : (d.spec as Obj);
    for (const c of spec.containers as Obj[])
      out.push({ where: `${String(d.kind)}/${String((d.metadata as Obj).name)}`, script: containerScript(c) });
  }
  for (const [job, def] of Object.entries(workflow.jobs as Obj)) {
    for (const s of (def as Obj).steps as Obj[])
      if (typeof s.run === 'string') out.push({ where: `nightly.yml ${job}: ${String(s.name)}`, script: s.run });
  }
  for (const md of [...walk(EXAMPLES).filter((f) => f.endsWith('.md')), join(ROOT, 'docs', 'scale.md')]) {
    for (const block of markdownShell(md)) out.push({ where: md.slice(ROOT.length), script: block });
  }
  return out;
}

/** The long flags and short options listed in a command's --help Options section. */
async function helpFlags(sub: string): Promise<Set<string>> {
  const r = await herdInProcess([...sub.split(' '), '--help']);
  expect(r.code, `herd ${sub} --help: ${r.stderr}`).toBe(0);
  const options = r.stdout.split(/^Options:$/m)[1] ?? '';
  return new Set([...options.matchAll(/(?<![\w-])(--?[A-Za-z][\w-]*)/g)].map((m) => m[1] as string));
}

describe('herd commands in the examples and docs/scale.md', () => {
  const all = sources().flatMap((s) => herdCommands(s.script).map((c) => ({ ...c, where: s.where })));

  it('finds the run, merge and report commands of both examples', () => {
    const wheres = (sub: string): string[] => all.filter((c) => c.sub === sub).map((c) => c.where);
    for (const sub of ['run', 'merge', 'report']) {
      expect(wheres(sub).some((w) => w.startsWith('Job/'))).toBe(true);
      expect(wheres(sub).some((w) => w.startsWith('nightly.yml'))).toBe(true);
    }
  });

  it('uses only subcommands and flags that the built CLI lists in --help', async () => {
    const bySub = new Map<string, Set<string>>();
    for (const c of all) {
      const known = bySub.get(c.sub) ?? (await helpFlags(c.sub));
      bySub.set(c.sub, known);
      for (const f of c.flags) expect(known.has(f), `${c.where}: herd ${c.sub} has no ${f} (${c.line})`).toBe(true);
    }
    expect([...bySub.keys()]).toEqual(expect.arrayContaining(['run', 'merge', 'report']));
  });

  it('runs scenarios that herd validate accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herd-examples-'));
    const file = join(dir, 'scenario.yaml');
    writeFileSync(file, (k8s('ConfigMap', 'herd-scenario').data as Obj)['scenario.yaml'] as string);
    const cm = await herdInProcess(['validate', file]);
    expect(cm.code, cm.stderr).toBe(0);
    const wf = await herdInProcess(['validate', (workflow.env as Obj).HERD_SCENARIO as string]);
    expect(wf.code, wf.stderr).toBe(0);
  });
});

const SCENARIO = (thresholds: string): string => `name: examples-e2e
devices: 40
seed: 3
device: { keepalive: 30s }
waves:
  - { type: ramp, over: 1s }
hold: 1s
thresholds:
${thresholds}
`;
const PASSING = SCENARIO('  connect.total: ["p(99) < 5s"]\n  attempts.dropped: ["== 0"]');
// No loopback connect completes in a microsecond: fails on every shard and on the merged data.
// Fails on a count the harness cannot have changed (a latency bound could pass with the harness's
// delay taken out, turning exit 1 into 3 when the shards share busy cores).
const FAILING = SCENARIO('  connect.total: ["p(99) < 5s", "count < 1"]');

interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(shell: string[], script: string, cwd: string, env: Record<string, string>): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(shell[0] as string, [...shell.slice(1), script], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', GITHUB_OUTPUT: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function resultsUnder(dir: string): Results[] {
  return readdirSync(dir).map((run) => JSON.parse(readFileSync(join(dir, run, 'results.json'), 'utf8')) as Results);
}

describe('the example scripts, run locally against a loopback target', () => {
  let target: Awaited<ReturnType<typeof startHerdTarget>>;
  let url: string;
  let dir: string;
  let shim: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herd-examples-run-'));
    shim = join(dir, 'path');
    mkdirSync(shim);
    // The image puts herd on PATH; here it is the built CLI of this checkout.
    writeFileSync(join(shim, 'herd'), `#!/bin/sh\nexec "${process.execPath}" "${HERD_BIN}" "$@"\n`);
    chmodSync(join(shim, 'herd'), 0o755);
    target = await startHerdTarget();
    url = target.url;
  });
  afterAll(() => {
    target?.stop();
  });

  it('kubernetes: the shard pods and the merge Job produce the merged report', async () => {
    const base = join(dir, 'k8s');
    const results = join(base, 'results');
    const etc = join(base, 'etc-herd');
    mkdirSync(results, { recursive: true });
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, 'scenario.yaml'), PASSING);
    // Absolute mount paths only: `shards/*/*/results.json` stays relative.
    const mapPaths = (s: string): string =>
      s.replace(/(?<=^|[\s"'=])\/etc\/herd\//g, `${etc}/`).replace(/(?<=^|[\s"'=])\/results(?=[/"'\s]|$)/g, results);

    const shard = jobContainer('herd-shards');
    const shardCommand = shard.command as string[];
    const shardScript = mapPaths((shard.args as string[])[0] as string);
    const env = literalEnv(shard);
    const n = Number(env.HERD_SHARDS);
    // Far enough ahead that every shard, starting at once on busy cores, is waiting when it comes
    // (a 4 s lead was 1-9 s in the past at a load of 12).
    const startAt = new Date(Date.now() + 20_000).toISOString();
    const pods = await Promise.all(
      Array.from({ length: n }, (_, index) =>
        runScript(shardCommand, shardScript, base, {
          ...env,
          // Two workers per pod fits the pod's CPU limit; this machine runs every pod at once.
          HERD_WORKERS: '1',
          PATH: `${shim}:${process.env.PATH ?? ''}`,
          JOB_COMPLETION_INDEX: String(index),
          HERD_TARGET_URL: url,
          HERD_START_AT: startAt,
        }),
      ),
    );
    for (const p of pods) expect(p.code, p.stderr).toBe(0);
    for (let index = 0; index < n; index++) {
      const [r, ...extra] = resultsUnder(join(results, 'shards', String(index)));
      expect(extra).toEqual([]);
      expect(r?.run.shard).toEqual({ index: index + 1, count: n });
      expect(r?.run.startAt).toBe(startAt);
    }

    const merge = jobContainer('herd-merge');
    const m = await runScript(
      merge.command as string[],
      mapPaths((merge.args as string[])[0] as string),
      mapPaths(merge.workingDir as string),
      { PATH: `${shim}:${process.env.PATH ?? ''}` },
    );
    expect(m.code, m.stderr).toBe(0);
    const merged = JSON.parse(readFileSync(join(results, 'merged', 'results.json'), 'utf8')) as Results;
    expect(merged.run.mergedFrom).toHaveLength(n);
    expect(merged.attempts.planned).toBe(40);
    expect(merged.run.verdict).toBe('passed');
    expect(readFileSync(join(results, 'merged', 'report.html'), 'utf8')).toMatch(/^<!doctype html>/i);
    expect(readFileSync(join(results, 'merged', 'summary.md'), 'utf8')).toContain('examples-e2e');

    // Without the start time from the herd-run ConfigMap a pod stops before sending anything.
    const unset = await runScript(shardCommand, shardScript, base, {
      ...env,
      PATH: `${shim}:${process.env.PATH ?? ''}`,
      JOB_COMPLETION_INDEX: '0',
      HERD_TARGET_URL: url,
      HERD_START_AT: '',
    });
    expect(unset.code).not.toBe(0);
    expect(unset.stderr).toContain('set start-at in the herd-run ConfigMap');
    expect(resultsUnder(join(results, 'shards', '0'))).toHaveLength(1);
  }, 120_000);

  it('github actions: shards, merge, summary and a failing verdict on a failed threshold', async () => {
    const base = join(dir, 'gha');
    mkdirSync(base);
    const scenario = join(base, 'failing.yaml');
    writeFileSync(scenario, FAILING);
    const workspace = (name: string): string => {
      const ws = join(base, name);
      mkdirSync(ws);
      // The steps run `node bin/herd.js` from a checkout of the herd repository.
      symlinkSync(join(ROOT, 'bin'), join(ws, 'bin'));
      return ws;
    };
    const wfEnv = { ...(workflow.env as Record<string, string>), HERD_SCENARIO: scenario, HERD_SCALE: '1' };
    const bash = ['bash', '-e', '-c'];

    // plan: refuses to go on without the secret; picks a start time a few minutes ahead.
    const check = String(workflowStep('plan', 'Check the target is configured').run);
    const noTarget = await runScript(bash, check, base, { HERD_TARGET_URL: '' });
    expect(noTarget.code).toBe(1);
    expect(noTarget.stdout).toContain('::error::Set the repository secret HERD_TARGET_URL');
    expect((await runScript(bash, check, base, { HERD_TARGET_URL: url })).code).toBe(0);
    const planOut = join(base, 'plan-output');
    writeFileSync(planOut, '');
    const plan = await runScript(bash, String(workflowStep('plan', 'start').run), base, { GITHUB_OUTPUT: planOut });
    expect(plan.code, plan.stderr).toBe(0);
    const planned = /^start-at=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/m.exec(readFileSync(planOut, 'utf8'));
    expect(planned).not.toBeNull();
    expect(Date.parse((planned as RegExpExecArray)[1] as string)).toBeGreaterThan(Date.now());

    // shard matrix: the planned time is minutes away, so these use one a few seconds ahead.
    const runStep = workflowStep('shard', 'Run shard ${{ matrix.shard }}');
    // Far enough ahead that every shard, starting at once on busy cores, is waiting when it comes
    // (a 4 s lead was 1-9 s in the past at a load of 12).
    const startAt = new Date(Date.now() + 20_000).toISOString();
    const matrix = ((((workflow.jobs as Obj).shard as Obj).strategy as Obj).matrix as Obj).shard as number[];
    const mergeWs = workspace('merge');
    const shards = await Promise.all(
      matrix.map(async (i) => {
        const ws = workspace(`shard-${i}`);
        const summary = join(ws, 'step-summary.md');
        writeFileSync(summary, '');
        const r = await runScript(bash, String(runStep.run), ws, {
          ...wfEnv,
          SHARD: String(i),
          HERD_TARGET_URL: url,
          HERD_START_AT: startAt,
          GITHUB_STEP_SUMMARY: summary,
        });
        return { i, ws, r, summary: readFileSync(summary, 'utf8') };
      }),
    );
    for (const s of shards) {
      // Each slice fails its own threshold (herd exit 1); the step still succeeds.
      expect(s.r.code, s.r.stderr).toBe(0);
      expect(s.r.stdout).toContain('FAILED');
      expect(s.summary).toBe('');
      // actions/download-artifact with a pattern puts each artifact in <path>/<name>/.
      cpSync(join(s.ws, 'shard-out'), join(mergeWs, 'shards', `shard-${s.i}`), { recursive: true });
    }

    const output = join(base, 'merge-output');
    const summary = join(base, 'merge-summary.md');
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const m = await runScript(bash, String(workflowStep('merge', 'merge').run), mergeWs, {
      ...wfEnv,
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
    });
    expect(m.code, m.stderr).toBe(0);
    expect(readFileSync(output, 'utf8')).toContain('code=1\n');
    const md = readFileSync(join(mergeWs, 'merged', 'summary.md'), 'utf8');
    expect(md).toContain('examples-e2e');
    expect(readFileSync(summary, 'utf8')).toBe(md);
    expect(existsSync(join(mergeWs, 'merged', 'report.html'))).toBe(true);
    const merged = JSON.parse(readFileSync(join(mergeWs, 'merged', 'results.json'), 'utf8')) as Results;
    expect(merged.run.mergedFrom).toHaveLength(matrix.length);
    expect(merged.thresholds.map((t) => t.passed)).toEqual([true, false]);

    const verdict = await runScript(bash, String(workflowStep('merge', 'Verdict').run), mergeWs, { CODE: '1' });
    expect(verdict.code).toBe(1);
    expect(verdict.stdout).toContain('::error::a threshold failed on the merged data');
    expect((await runScript(bash, String(workflowStep('merge', 'Verdict').run), mergeWs, { CODE: '0' })).code).toBe(0);
  }, 120_000);
});
