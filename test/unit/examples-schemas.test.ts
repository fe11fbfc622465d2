/**
 * The deployment examples against the schemas their engines use: every Kubernetes manifest in
 * examples/kubernetes through kubernetes-models (the OpenAPI schemas of the Kubernetes API, one
 * class per kind), the GitHub Actions workflow through @actions/workflow-parser (the parser and
 * workflow schema the Actions runner service uses). A deliberately broken copy of each, made here,
 * must fail, so a check that accepts anything cannot pass.
 * (The Kubernetes OpenAPI schemas do not reject unknown fields; examples.test.ts checks the fields
 * herd relies on by name.)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

type Manifest = { apiVersion: string; kind: string; metadata?: { name?: string } } & Record<string, unknown>;

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'batch/v1 Job': Job,
  'v1 ConfigMap': ConfigMap,
  'v1 PersistentVolumeClaim': PersistentVolumeClaim,
  'v1 Pod': Pod,
};

/** Schema problems of one manifest ('' when valid). */
function k8sProblems(m: Manifest): string {
  const Model = MODELS[`${m.apiVersion} ${m.kind}`];
  if (Model === undefined) return `no schema model for ${m.apiVersion} ${m.kind}`;
  try {
    new Model(structuredClone(m) as never).validate();
    return '';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const K8S_DIR = join(ROOT, 'examples', 'kubernetes');
const manifests: [string, Manifest][] = readdirSync(K8S_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(K8S_DIR, f), 'utf8'))
      .map((d) => d.toJS() as Manifest | null)
      .filter((m): m is Manifest => m !== null)
      .map((m): [string, Manifest] => [`${f}: ${m.kind} ${m.metadata?.name ?? ''}`, m]),
  );

describe('examples/kubernetes manifests pass the Kubernetes API schemas (kubernetes-models)', () => {
  it('finds the Job, ConfigMap, PVC and Pod manifests', () => {
    const kinds = manifests.map(([, m]) => m.kind).sort();
    expect(kinds).toEqual(['ConfigMap', 'ConfigMap', 'Job', 'Job', 'PersistentVolumeClaim', 'Pod']);
  });

  it.each(manifests)('%s', (_name, m) => {
    expect(k8sProblems(m)).toBe('');
  });

  it('a broken copy of the shard Job fails: parallelism as text, a container without a name', () => {
    const job = manifests.find(([n]) => n.startsWith('shard-job.yaml'))?.[1] as Manifest;
    type JobShape = { spec: { parallelism: unknown; template: { spec: { containers: { name?: string }[] } } } };
    const broken = structuredClone(job) as unknown as JobShape;
    broken.spec.parallelism = 'four';
    delete broken.spec.template.spec.containers[0]?.name;
    const problems = k8sProblems(broken as unknown as Manifest);
    expect(problems).toContain('data/spec/parallelism must be integer');
    expect(problems).toContain('data/spec/template/spec/containers/0 must have required property name');
  });

  it('a broken copy of a ConfigMap and of the PVC fail', () => {
    const cm = structuredClone(manifests.find(([, m]) => m.kind === 'ConfigMap')?.[1]) as Manifest;
    expect(k8sProblems({ ...cm, data: { 'scenario.yaml': 42 } })).toContain('data/data/scenario.yaml must be string');
    const pvc = structuredClone(manifests.find(([, m]) => m.kind === 'PersistentVolumeClaim')?.[1]) as Manifest;
    const badPvc = { ...pvc, spec: { ...(pvc.spec as object), accessModes: 'ReadWriteMany' } };
    expect(k8sProblems(badPvc)).toContain('data/spec/accessModes must be array');
  });
});

/** Problems the Actions workflow parser and converter report (empty when valid). */
async function workflowProblems(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const problems = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value !== undefined) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    for (const e of template.errors ?? []) if (!problems.includes(e.Message)) problems.push(e.Message);
  }
  return problems;
}

describe('examples/github-actions workflow passes the Actions workflow schema (@actions/workflow-parser)', () => {
  const dir = join(ROOT, 'examples', 'github-actions');
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

  it('finds the workflow', () => {
    expect(files).toEqual(['nightly.yml']);
  });

  it.each(files)('%s', async (f) => {
    expect(await workflowProblems(f, readFileSync(join(dir, f), 'utf8'))).toEqual([]);
  });

  it('a broken copy fails: runs_on for runs-on, a timeout that is not a number', async () => {
    const text = readFileSync(join(dir, 'nightly.yml'), 'utf8');
    const broken = text.replace('runs-on:', 'runs_on:').replace(/timeout-minutes: \d+/, 'timeout-minutes: soon');
    const problems = await workflowProblems('nightly.yml', broken);
    expect(problems.some((p) => p.includes("Unexpected value 'runs_on'"))).toBe(true);
    expect(problems.some((p) => p.includes('Required property is missing: runs-on'))).toBe(true);
    expect(problems.some((p) => p.includes("Unexpected value 'soon'"))).toBe(true);
  });
});
