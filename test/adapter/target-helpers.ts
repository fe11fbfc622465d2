/** Small real clients for the embedded-target tests: raw MQTT over net + mqtt-packet, HTTP GET. */
import * as net from 'node:net';
import * as mqtt from 'mqtt-packet';

export type ConnectOutcome =
  { kind: 'connack'; code: number } | { kind: 'closed' } | { kind: 'reset' } | { kind: 'timeout' };

/** Opens a TCP connection, sends one CONNECT and reports what came back. */
export function rawConnect(
  port: number,
  opts: { version: 4 | 5; clientId: string; timeoutMs?: number; keep?: (s: net.Socket) => void },
): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const parser = mqtt.parser({ protocolVersion: opts.version });
    let done = false;
    const finish = (o: ConnectOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (o.kind === 'connack' && o.code === 0 && opts.keep) opts.keep(sock);
      else sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), opts.timeoutMs ?? 5_000);
    parser.on('packet', (p: mqtt.Packet) => {
      if (p.cmd === 'connack')
        finish({ kind: 'connack', code: opts.version === 5 ? (p.reasonCode ?? 0) : (p.returnCode ?? 0) });
    });
    sock.on('data', (d) => parser.parse(d));
    sock.on('error', (e: NodeJS.ErrnoException) =>
      finish(e.code === 'ECONNRESET' ? { kind: 'reset' } : { kind: 'closed' }),
    );
    sock.on('close', () => finish({ kind: 'closed' }));
    sock.on('connect', () => {
      sock.write(
        mqtt.generate(
          {
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: opts.version,
            clientId: opts.clientId,
            clean: true,
            keepalive: 60,
          },
          { protocolVersion: opts.version },
        ),
      );
    });
  });
}

export async function getText(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}

/** Value of one sample in a Prometheus page, e.g. metric('herd_target_refusals_total', {reason:'outage'}). */
export function sample(page: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of page.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  if (!found) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return total;
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
