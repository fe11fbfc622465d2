/**
 * Test hosts on one machine: Linux network namespaces made with iproute2, each its own network
 * stack with its own address, joined by veth pairs to a bridge in the first one. The test creates
 * them under names unique to its run and removes them itself; no route leads out of them, so
 * nothing sent inside can leave the machine.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { findProgram } from './external.js';
import type { CliResult } from './cli.js';

/** The subnet the test hosts share, inside their own namespaces only. */
export const SUBNET = '10.77.0';

export interface TestHosts {
  /** Namespace name per host name. */
  ns: Record<string, string>;
  /** Addresses per host name (the first is the host's main address). */
  addresses: Record<string, string[]>;
  remove(): void;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Why namespace hosts cannot be made here, or null when they can: needs root and `ip netns`.
 * Tries a namespace of its own (and removes it) rather than trusting the uid alone.
 */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root: network namespaces need CAP_SYS_ADMIN';
  if (findProgram('ip') === null) return '`ip` (iproute2) is not installed';
  const probe = `herd-probe-${process.pid}`;
  try {
    ip(['netns', 'add', probe]);
  } catch (err) {
    return `\`ip netns add\` failed: ${String((err as { stderr?: string }).stderr ?? err).trim()}`;
  }
  try {
    ip(['netns', 'del', probe]);
  } catch {
    // removed with the others' cleanup otherwise; nothing runs inside it
  }
  return null;
}

/**
 * Makes one namespace per host: the first holds a bridge (`br0`) and the others join it through a
 * veth pair each. Host k (0-based) gets SUBNET.(k+1) plus `extra[name]` more addresses.
 * On any failure the namespaces made so far are removed before the error is thrown.
 */
export function createHosts(prefix: string, names: string[], extra: Record<string, number> = {}): TestHosts {
  const ns: Record<string, string> = {};
  const addresses: Record<string, string[]> = {};
  const made: string[] = [];
  const remove = (): void => {
    for (const n of made.splice(0).reverse()) {
      try {
        ip(['netns', 'del', n]);
      } catch {
        // already gone
      }
    }
  };
  try {
    names.forEach((name, k) => {
      const n = `${prefix}-${name}`;
      ip(['netns', 'add', n]);
      made.push(n);
      ns[name] = n;
      ip(['-n', n, 'link', 'set', 'lo', 'up']);
      const own = [`${SUBNET}.${k + 1}`];
      for (let j = 1; j <= (extra[name] ?? 0); j++) own.push(`${SUBNET}.${k + 1 + 10 * j}`);
      addresses[name] = own;
      let dev = 'br0';
      const hub = ns[names[0] as string] as string;
      if (k === 0) {
        ip(['-n', n, 'link', 'add', 'br0', 'type', 'bridge']);
        ip(['-n', n, 'link', 'set', 'br0', 'up']);
      } else {
        // Created in this host's namespace, the hub end moved into the hub: nothing touches the
        // machine's own namespace.
        dev = 'eth0';
        ip(['-n', n, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `to-${name}`, 'netns', hub]);
        ip(['-n', hub, 'link', 'set', `to-${name}`, 'master', 'br0']);
        ip(['-n', hub, 'link', 'set', `to-${name}`, 'up']);
        ip(['-n', n, 'link', 'set', 'eth0', 'up']);
      }
      for (const a of own) ip(['-n', n, 'addr', 'add', `${a}/24`, 'dev', dev]);
    });
  } catch (err) {
    remove();
    throw err;
  }
  return { ns, addresses, remove };
}

/** Starts a long-running program inside a namespace (`ip netns exec` execs it: same PID). */
export function spawnIn(ns: string, cmd: string, args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a program inside a namespace to its end and returns its exit and output. */
export function runIn(ns: string, cmd: string, args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
