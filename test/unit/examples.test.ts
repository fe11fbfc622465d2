/**
 * The deployment examples (examples/kubernetes, examples/github-actions) cannot run here, so their
 * structure is checked instead: every YAML parses, the Indexed Job's shard count agrees everywhere,
 * the paths the shard pods write are the paths the merge step reads, the nightly workflow has its
 * schedule, matrix, merge and summary, and no example points at a real address.
 * test/e2e/examples-commands.test.ts runs the commands themselves.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseScenarioText } from '../../src/scenario/load.js';
import { validateScenario } from '../../src/scenario/validate.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');

type Obj = Record<string, unknown>;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what}: expected a mapping`);
  return v as Obj;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what}: expected a list`);
  return v;
}

function docs(file: string): Obj[] {
  const text = readFileSync(join(EXAMPLES, file), 'utf8');
  return parseAllDocuments(text).map((d, i) => {
    expect(d.errors, `${file} document ${i}`).toEqual([]);
    return obj(d.toJS(), `${file} document ${i}`);
  });
}

/** The one resource of `kind` named `name` across the Kubernetes manifests. */
function resource(kind: string, name: string): Obj {
  const all = walk(join(EXAMPLES, 'kubernetes'))
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => docs(relative(EXAMPLES, f)));
  const found = all.filter((d) => d.kind === kind && obj(d.metadata, 'metadata').name === name);
  expect(found, `${kind}/${name}`).toHaveLength(1);
  return found[0] as Obj;
}

function podSpec(job: Obj): Obj {
  return obj(obj(obj(job.spec, 'spec').template, 'template').spec, 'template.spec');
}

function container(job: Obj): Obj {
  const cs = arr(podSpec(job).containers, 'containers');
  expect(cs).toHaveLength(1);
  return obj(cs[0], 'container');
}

/** The shell script a container runs: command ["/bin/sh", "-c"] with the script as its one arg. */
function script(c: Obj): string {
  expect(c.command).toEqual(['/bin/sh', '-c']);
  const args = arr(c.args, 'args');
  expect(args).toHaveLength(1);
  return String(args[0]);
}

function envValue(c: Obj, name: string): Obj {
  const e = arr(c.env, 'env')
    .map((x) => obj(x, 'env entry'))
    .find((x) => x.name === name);
  if (e === undefined) throw new Error(`env ${name} is not set`);
  return e;
}

function mountOf(job: Obj, c: Obj, mountPath: string): Obj {
  const m = arr(c.volumeMounts, 'volumeMounts')
    .map((x) => obj(x, 'mount'))
    .find((x) => x.mountPath === mountPath);
  if (m === undefined) throw new Error(`nothing is mounted at ${mountPath}`);
  const v = arr(podSpec(job).volumes, 'volumes')
    .map((x) => obj(x, 'volume'))
    .find((x) => x.name === m.name);
  if (v === undefined) throw new Error(`volume ${String(m.name)} is not declared`);
  return v;
}

describe('every YAML file under examples/', () => {
  const files = walk(EXAMPLES).filter((f) => /\.ya?ml$/.test(f));
  it('finds the manifests and the workflow', () => {
    expect(files.map((f) => relative(EXAMPLES, f)).sort()).toEqual(
      expect.arrayContaining([
        'github-actions/nightly.yml',
        'kubernetes/shard-job.yaml',
        'kubernetes/merge-job.yaml',
        'kubernetes/configmap.yaml',
        'kubernetes/pvc.yaml',
      ]),
    );
  });
  it.each(files.map((f) => relative(EXAMPLES, f)))('%s parses without errors', (f) => {
    expect(docs(f).length).toBeGreaterThan(0);
  });
});

describe('examples/kubernetes', () => {
  const job = resource('Job', 'herd-shards');
  const shardContainer = container(job);
  const shardScript = script(shardContainer);

  it('runs an Indexed Job whose completions, parallelism and --shard count agree', () => {
    const spec = obj(job.spec, 'spec');
    expect(spec.completionMode).toBe('Indexed');
    const shards = Number(envValue(shardContainer, 'HERD_SHARDS').value);
    expect(shards).toBeGreaterThan(1);
    expect(spec.completions).toBe(shards);
    expect(spec.parallelism).toBe(shards);
    // --shard is 1-based; JOB_COMPLETION_INDEX is 0-based.
    expect(shardScript).toContain('--shard "$((JOB_COMPLETION_INDEX + 1))/${HERD_SHARDS}"');
    // A retry would start late and duplicate its index's results.
    expect(spec.backoffLimit).toBe(0);
    expect(podSpec(job).restartPolicy).toBe('Never');
  });

  it('takes the target and the shared start time from the herd-run ConfigMap, which has both keys', () => {
    const run = obj(resource('ConfigMap', 'herd-run').data, 'herd-run data');
    for (const [env, flag] of [
      ['HERD_TARGET_URL', '--target'],
      ['HERD_START_AT', '--start-at'],
    ] as const) {
      const ref = obj(obj(envValue(shardContainer, env).valueFrom, 'valueFrom').configMapKeyRef, 'configMapKeyRef');
      expect(ref.name).toBe('herd-run');
      expect(Object.keys(run)).toContain(ref.key);
      expect(shardScript).toContain(`${flag} "$${env}"`);
      // An unset value stops the pod before it sends anything.
      expect(shardScript).toMatch(new RegExp(`: "\\$\\{${env}:\\?`));
    }
    expect(run['start-at']).toBe('');
    expect(String(run['target-url'])).toMatch(/^mqtts?:\/\/[^/]+\.example\.invalid(:\d+)?$/);
  });

  it('mounts the scenario ConfigMap at the path the shards run, and the scenario is valid', () => {
    const m = /herd run (\S+)/.exec(shardScript);
    expect(m).not.toBeNull();
    const scenarioPath = (m as RegExpExecArray)[1] as string;
    const dir = scenarioPath.slice(0, scenarioPath.lastIndexOf('/'));
    const key = scenarioPath.slice(dir.length + 1);
    const vol = mountOf(job, shardContainer, dir);
    const cmName = String(obj(vol.configMap, 'configMap volume').name);
    const data = obj(resource('ConfigMap', cmName).data, `${cmName} data`);
    const text = data[key];
    expect(typeof text).toBe('string');
    const loaded = validateScenario(parseScenarioText(text as string, key), key);
    expect(loaded.scenario.thresholds).toBeDefined();
  });

  it('writes each shard under shards/<index>/ on the volume the merge Job reads with its glob', () => {
    const out = /--out "([^"]+)"/.exec(shardScript)?.[1];
    expect(shardScript).toContain('out="/results/shards/${JOB_COMPLETION_INDEX}"');
    expect(out).toBe('$out');
    const shardClaim = obj(mountOf(job, shardContainer, '/results').persistentVolumeClaim, 'pvc volume').claimName;

    const merge = resource('Job', 'herd-merge');
    const mc = container(merge);
    const mergeScript = script(mc);
    expect(mc.workingDir).toBe('/results');
    const mergeClaim = obj(mountOf(merge, mc, '/results').persistentVolumeClaim, 'pvc volume').claimName;
    expect(mergeClaim).toBe(shardClaim);
    // herd run --out DIR writes DIR/<run-id>/results.json; DIR is /results/shards/<index>.
    expect(mergeScript).toContain('herd merge shards/*/*/results.json -o merged/results.json');
    expect(mergeScript).toMatch(/herd report merged\/results\.json --format html -o \S+\.html/);
    expect(mergeScript).toMatch(/exit "\$code"\s*$/);

    const pvc = resource('PersistentVolumeClaim', String(shardClaim));
    // Shard pods on several nodes write the same volume at once.
    expect(obj(pvc.spec, 'pvc spec').accessModes).toEqual(['ReadWriteMany']);
  });

  it('builds the image from NODE_IMAGE (node:20-slim by default) with npm ci and a herd entrypoint', () => {
    const dockerfile = readFileSync(join(EXAMPLES, 'kubernetes', 'Dockerfile'), 'utf8');
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((x) => x[1]);
    expect(froms).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}']);
    // The build argument comes before the first FROM, so both stages see it.
    expect(dockerfile.indexOf('ARG NODE_IMAGE=node:20-slim\n')).toBeGreaterThan(-1);
    expect(dockerfile.indexOf('ARG NODE_IMAGE=')).toBeLessThan(dockerfile.indexOf('\nFROM '));
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["herd"\]$/m);
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((x) =>
      (x[1] as string).split(/\s+/),
    );
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'bin']));
    for (const p of copied) expect(existsSync(join(ROOT, p)), p).toBe(true);
    // Every pod uses the same image.
    const images = ['herd-shards', 'herd-merge'].map((n) => container(resource('Job', n)).image);
    expect(new Set(images).size).toBe(1);
  });
});

describe('examples/github-actions/nightly.yml', () => {
  const [wf] = docs('github-actions/nightly.yml') as [Obj];
  const env = obj(wf.env, 'env');
  const jobs = obj(wf.jobs, 'jobs');
  const steps = (job: string): Obj[] => arr(obj(jobs[job], job).steps, `${job}.steps`).map((s) => obj(s, 'step'));
  const runs = (job: string): string =>
    steps(job)
      .map((s) => String(s.run ?? ''))
      .join('\n');

  it('runs nightly and on demand', () => {
    const on = obj(wf.on, 'on');
    const schedule = arr(on.schedule, 'on.schedule').map((s) => obj(s, 'schedule entry'));
    expect(schedule).toHaveLength(1);
    expect(String(schedule[0]?.cron).split(' ')).toHaveLength(5);
    expect(Object.keys(on)).toContain('workflow_dispatch');
  });

  it('runs the 5x scenario as a matrix of every shard', () => {
    expect(env.HERD_SCENARIO).toBe('scenarios/nightly-5x.yaml');
    expect(existsSync(join(ROOT, String(env.HERD_SCENARIO)))).toBe(true);
    expect(env.HERD_SCALE).toBe('5');
    const n = Number(env.HERD_SHARDS);
    const shard = obj(jobs.shard, 'shard');
    const strategy = obj(shard.strategy, 'strategy');
    expect(strategy['fail-fast']).toBe(false);
    expect(obj(strategy.matrix, 'matrix').shard).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const runStep = steps('shard').find((s) => String(s.run ?? '').includes('herd.js run'));
    expect(runStep).toBeDefined();
    const stepEnv = obj((runStep as Obj).env, 'run step env');
    expect(stepEnv.SHARD).toBe('${{ matrix.shard }}');
    expect(stepEnv.HERD_START_AT).toBe('${{ needs.plan.outputs.start-at }}');
    expect(stepEnv.HERD_TARGET_URL).toBe('${{ secrets.HERD_TARGET_URL }}');
    const run = String((runStep as Obj).run);
    for (const part of [
      '"$HERD_SCENARIO"',
      '--scale "$HERD_SCALE"',
      '--shard "${SHARD}/${HERD_SHARDS}"',
      '--start-at "$HERD_START_AT"',
      '--target "$HERD_TARGET_URL"',
    ]) {
      expect(run).toContain(part);
    }
    expect(obj(jobs.plan, 'plan').outputs).toEqual({ 'start-at': '${{ steps.start.outputs.start-at }}' });
  });

  it('uploads each shard as an artifact that the merge job downloads', () => {
    const up = steps('shard').find((s) => String(s.uses ?? '').startsWith('actions/upload-artifact@'));
    expect(obj((up as Obj).with, 'with').name).toBe('shard-${{ matrix.shard }}');
    expect(obj((up as Obj).with, 'with').path).toBe('shard-out/');
    expect(runs('shard')).toContain('--out shard-out');
    const merge = obj(jobs.merge, 'merge');
    expect(merge.needs).toBe('shard');
    expect(String(merge.if)).toContain('!cancelled()');
    const down = steps('merge').find((s) => String(s.uses ?? '').startsWith('actions/download-artifact@'));
    // download-artifact puts each artifact in <path>/<artifact name>/, so: shards/shard-N/<run-id>/results.json.
    expect(obj((down as Obj).with, 'with')).toEqual({ pattern: 'shard-*', path: 'shards' });
  });

  it('merges, renders HTML and Markdown, writes the step summary, uploads the report and fails on the merged verdict', () => {
    const r = runs('merge');
    expect(r).toContain('node bin/herd.js merge shards/*/*/results.json -o merged/results.json');
    expect(r).toContain('--format html -o merged/report.html');
    expect(r).toContain('--format md -o merged/summary.md');
    expect(r).toContain('cat merged/summary.md >> "$GITHUB_STEP_SUMMARY"');
    const upload = steps('merge').find(
      (s) => String(s.uses ?? '').startsWith('actions/upload-artifact@') && obj(s.with, 'with').name === 'herd-report',
    );
    expect(upload).toBeDefined();
    const verdict = steps('merge').at(-1) as Obj;
    expect(obj(verdict.env, 'verdict env').CODE).toBe('${{ steps.merge.outputs.code }}');
    expect(String(verdict.run)).toMatch(/1\) .*exit 1/);
  });
});

/** Dotted quads (each part ≤ 255) outside 127.0.0.0/8. */
function foreignIpv4(text: string): string[] {
  return [...text.matchAll(/(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.])/g)]
    .filter((m) => m.slice(1).every((o) => Number(o) <= 255))
    .map((m) => m[0])
    .filter((ip) => !ip.startsWith('127.'));
}

/** Hosts of mqtt://, mqtts://, ws:// and wss:// URLs. */
function targetHosts(text: string): string[] {
  return [...text.matchAll(/\b(?:mqtts?|wss?):\/\/([A-Za-z0-9[][^/:\s"'`,]*)/g)].map((m) => m[1] as string);
}

describe('addresses in the examples', () => {
  it('the checks find what they look for', () => {
    // Built from parts, so this file itself holds no address but loopback.
    const foreign = ['10', '0', '0', '5'].join('.');
    const long = ['1', '2', '3', '4', '5'].join('.');
    const bad = ['256', '1', '1', '1'].join('.');
    expect(foreignIpv4(`mqtt://${foreign}:1883 v1.2.3 127.0.0.1 ${long} ${bad}`)).toEqual([foreign]);
    expect(targetHosts('mqtt://, wss://a.example.invalid:443/x "mqtts://broker.internal"')).toEqual([
      'a.example.invalid',
      'broker.internal',
    ]);
  });
  const files = [...walk(EXAMPLES), join(ROOT, 'docs', 'scale.md')];
  it.each(files.map((f) => relative(ROOT, f)))(
    '%s has no IPv4 address outside 127.0.0.0/8 and no real target host',
    (f) => {
      const text = readFileSync(join(ROOT, f), 'utf8');
      expect(foreignIpv4(text)).toEqual([]);
      for (const h of targetHosts(text))
        expect(h, `${f}: ${h}`).toMatch(/^(127\.\d+\.\d+\.\d+|localhost|[\w.-]+\.example\.invalid)$/);
    },
  );
});
