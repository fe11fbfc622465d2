/**
 * Files a scenario names (TLS CA, client certificates) must exist when it is validated, not only
 * when a run gets as far as opening a socket: `herd validate` names the missing file.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { inputFileProblem, MAX_PEM_BYTES } from '../util/input-file.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';

function unreadable(path: string, wantDir: boolean): string | null {
  try {
    const st = statSync(path);
    if (wantDir && !st.isDirectory()) return 'is not a folder';
    if (!wantDir && st.isDirectory()) return 'is a folder, expected a PEM file';
    if (!wantDir) {
      const why = inputFileProblem(path, MAX_PEM_BYTES);
      if (why !== null) return why;
    }
    accessSync(path, constants.R_OK);
    return null;
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES'
        ? 'permission denied'
        : `cannot be read (${code ?? 'error'})`;
  }
}

export function scenarioFileProblems(s: ResolvedScenario, hasCohorts: boolean): string[] {
  const problems = new Set<string>();
  s.cohorts.forEach((c, i) => {
    const where = hasCohorts ? `cohorts[${i}].device.tls` : 'device.tls';
    const tls = (c.device.tls ?? {}) as { ca?: string; clientCert?: string };
    if (tls.ca !== undefined) {
      const why = unreadable(tls.ca, false);
      if (why !== null) problems.add(`${where}.ca: ${tls.ca}: ${why}`);
    }
    if (tls.clientCert !== undefined) {
      // A template ("certs/device-{id}.crt") names files per device: its folder must exist.
      const templated = tls.clientCert.includes('{');
      const path = templated ? dirname(tls.clientCert) : tls.clientCert;
      let why = unreadable(path, true);
      if (why !== null && !templated && unreadable(path, false) === null) why = null;
      if (why !== null) problems.add(`${where}.clientCert: ${path}: ${why}`);
    }
  });
  return [...problems];
}

/**
 * A relative TLS path (ca, clientCert) is relative to the working directory of the command that
 * reads the scenario, as every path given on the command line is; it is made absolute once here.
 */
export function tlsFilesIn(s: ResolvedScenario, cwd: string): ResolvedScenario {
  const abs = (p: unknown): unknown => (typeof p === 'string' && !isAbsolute(p) ? resolve(cwd, p) : p);
  const cohorts = s.cohorts.map((c) => {
    const tls = c.device.tls as { ca?: string; clientCert?: string } | null | undefined;
    if (tls === null || tls === undefined) return c;
    const withPaths = { ...tls };
    if (tls.ca !== undefined) withPaths.ca = abs(tls.ca) as string;
    if (tls.clientCert !== undefined) withPaths.clientCert = abs(tls.clientCert) as string;
    return { ...c, device: { ...c.device, tls: withPaths } };
  });
  return { ...s, cohorts } as ResolvedScenario;
}
