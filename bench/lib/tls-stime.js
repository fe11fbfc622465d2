/**
 * `openssl s_time` as the TLS bench's outside reference: one handshake at a time for `seconds`,
 * each closed with close_notify. Its CPU is the process's own user + system time as
 * `/usr/bin/time` reports it (wait4 rusage), divided by the connections s_time counted. With
 * `-reuse` s_time prints `r` for a resumed and `*` for a full handshake; they are counted.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const TIME = '/usr/bin/time';

/**
 * @param {{ port: number, ca: string, version: 'TLSv1.2' | 'TLSv1.3', reuse: boolean, seconds: number }} o
 * @returns {Promise<{ connections: number, resumed: number | null, cpuUsPerHandshake: number | null, perS: number | null } | { skipped: string }>}
 */
export async function runSTime(o) {
  if (!existsSync(TIME))
    return { skipped: `${TIME} is not installed (apt-get install -y time): s_time's CPU cannot be read` };
  const args = [
    '-f',
    'HERD_CPU %U %S',
    'openssl',
    's_time',
    '-connect',
    `127.0.0.1:${o.port}`,
    o.reuse ? '-reuse' : '-new',
    o.version === 'TLSv1.3' ? '-tls1_3' : '-tls1_2',
    '-time',
    String(o.seconds),
    '-CAfile',
    o.ca,
  ];
  const { code, out } = await new Promise((resolve, reject) => {
    const child = spawn(TIME, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const keep = (d) => {
      if (text.length < 1_000_000) text += d.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // Bounded: s_time stops itself after `seconds`; this only guards against a hang.
    const t = setTimeout(() => child.kill('SIGKILL'), (o.seconds + 30) * 1000);
    child.once('error', reject);
    child.once('exit', (c) => {
      clearTimeout(t);
      resolve({ code: c, out: text });
    });
  });
  const cpu = /HERD_CPU ([\d.]+) ([\d.]+)/.exec(out);
  const conns = /(\d+) connections in ([\d.]+) real seconds/.exec(out);
  if (code !== 0 || cpu === null || conns === null)
    return { skipped: `openssl s_time failed (exit ${code}): ${out.trim().slice(-300)}` };
  const connections = Number(conns[1]);
  // The progress marks of the timed loop: 'r' resumed, '*' full (the one priming connect prints nothing).
  const marks =
    out
      .replace(/HERD_CPU.*$/m, '')
      .match(/^[r*]+$/gm)
      ?.join('') ?? '';
  const cpuUs = (Number(cpu[1]) + Number(cpu[2])) * 1e6;
  return {
    connections,
    resumed: o.reuse ? [...marks].filter((c) => c === 'r').length : null,
    cpuUsPerHandshake: connections > 0 ? cpuUs / connections : null,
    perS: connections / Number(conns[2]),
  };
}
