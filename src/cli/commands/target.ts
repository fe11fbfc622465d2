/** `herd target`: runs the embedded reference cloud in its own process(es) until Ctrl-C. */
import { Command, Option } from 'commander';
import { HerdError } from '../../errors.js';
import type { TargetOptionsInput } from '../../scenario/target-options.js';
import type { ResolvedTargetOptions } from '../../target/options.js';
import type { EmbeddedTarget } from '../../target/spawn.js';
import { TARGET_PROFILE_NAMES } from '../names.js';
import type { CliContext } from '../context.js';

interface TargetFlags {
  profile: string;
  host: string;
  port: string;
  processes: string;
  tls?: boolean;
  mtls?: boolean;
  handshakeCostMs?: string;
  handshakeBurnsCpu?: boolean;
  maxConnections?: string;
  admission?: string;
  outage?: string[];
  messageLossRate?: string;
  webhook?: string;
  webhookLossRate?: string;
}

const FLAG_FOR: Record<string, string> = {
  profile: '--profile',
  host: '--host',
  port: '--port',
  processes: '--processes',
  handshakeCostMs: '--handshake-cost-ms',
  maxConnections: '--max-connections',
  admission: '--admission',
  outages: '--outage',
  messageLossRate: '--message-loss-rate',
  webhook: '--webhook',
};
const WHERE = 'herd target';

const num = (v: string): number => (/^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : Number.NaN);

/** Pure: flags → the same options object a scenario's `target: { embedded: … }` holds. */
export function targetInputFromFlags(f: TargetFlags): TargetOptionsInput {
  const input: Record<string, unknown> = {
    profile: f.profile,
    host: f.host,
    port: num(f.port),
    processes: num(f.processes),
  };
  if (f.tls) input.tls = true;
  if (f.mtls) input.mtls = true;
  if (f.handshakeCostMs !== undefined) input.handshakeCostMs = num(f.handshakeCostMs);
  if (f.handshakeBurnsCpu) input.handshakeBurnsCpu = true;
  if (f.maxConnections !== undefined) input.maxConnections = f.maxConnections === 'none' ? null : num(f.maxConnections);
  if (f.admission !== undefined) {
    if (f.admission === 'none') input.admission = null;
    else {
      const [ratePerS, burst, queue] = f.admission.split(',').map((s) => num(s));
      input.admission = { ratePerS, burst: burst ?? ratePerS, ...(queue !== undefined ? { queue } : {}) };
    }
  }
  if (f.outage !== undefined) {
    input.outages = f.outage.map((text) => {
      const [at, duration, share, mode] = text.split(',');
      return {
        at,
        duration,
        ...(share !== undefined ? { share: num(share) } : {}),
        ...(mode !== undefined ? { mode } : {}),
      };
    });
  }
  if (f.messageLossRate !== undefined) input.messageLossRate = num(f.messageLossRate);
  if (f.webhook !== undefined) {
    input.webhook = {
      url: f.webhook,
      ...(f.webhookLossRate !== undefined ? { lossRate: num(f.webhookLossRate) } : {}),
    };
  }
  return input as TargetOptionsInput;
}

function describeKnobs(o: ResolvedTargetOptions): string {
  const a = o.admission;
  return [
    `handshakeCostMs ${o.handshakeCostMs}${o.handshakeBurnsCpu ? ' (CPU burned)' : ''}`,
    `maxConnections ${o.maxConnections ?? 'none'}`,
    `admission ${a ? `${a.ratePerS}/s burst ${a.burst} queue ${a.queue}` : 'none'}`,
    ...(o.outages.length ? [`outages ${o.outages.length}`] : []),
    ...(o.messageLossRate ? [`messageLossRate ${o.messageLossRate}`] : []),
    ...(o.webhook ? [`webhook ${o.webhook.url}`] : []),
    ...(o.throttle ? [describeThrottle(o.throttle)] : []),
  ].join(', ');
}

function describeThrottle(t: NonNullable<ResolvedTargetOptions['throttle']>): string {
  const parts = [
    t.connectsPerS === null ? null : `${t.connectsPerS} CONNECT/s`,
    t.clientConnectsPerS === null ? null : `${t.clientConnectsPerS} CONNECT/s per client id`,
    t.publishesPerS === null ? null : `${t.publishesPerS} publishes/s per connection (${t.publishThrottle})`,
    t.keepaliveMaxS === null ? null : `keepalive ≤ ${t.keepaliveMaxS}s`,
  ].filter((x) => x !== null);
  return `throttle ${parts.length === 0 ? 'none' : parts.join(', ')}`;
}

export function describeTarget(t: EmbeddedTarget): string {
  const o = t.options;
  const lines = [
    `herd target listening (profile ${o.profile}, ${o.processes} process${o.processes === 1 ? '' : 'es'}; ${describeKnobs(o)})`,
  ];
  for (const p of t.processes) {
    lines.push(`  process ${p.index} (pid ${p.pid})`);
    for (const [kind, url] of Object.entries(p.endpoints)) lines.push(`    ${kind.padEnd(8)} ${url}`);
  }
  lines.push(`  metrics    ${t.metricsUrl}`);
  if (o.processes > 1) lines.push('  Each process is a separate broker: publishes do not cross processes.');
  return lines.join('\n') + '\n';
}

export function registerTarget(program: Command, ctx: CliContext): void {
  program
    .command('target')
    .description('run the embedded reference target (MQTT, MQTT over WebSocket, plain WebSocket) until Ctrl-C')
    .addOption(
      new Option('--profile <name>', 'bundle of failure knobs').choices([...TARGET_PROFILE_NAMES]).default('default'),
    )
    .option('--host <address>', 'loopback address to listen on', '127.0.0.1')
    .option('--port <n>', 'first port; listeners take consecutive ports (0 picks free ones)', '0')
    .option('--processes <n>', 'broker processes, each on its own ports', '1')
    .option('--tls', 'also listen on mqtts:// and wss:// with fixtures/tls certificates')
    .option('--mtls', 'TLS listeners require a client certificate (fixtures/tls/clients)')
    .option('--handshake-cost-ms <ms>', 'service time per CONNECT, one at a time, modelled (overrides the profile)')
    .option('--handshake-burns-cpu', 'spend --handshake-cost-ms as a busy loop instead (capacity = the CPU left)')
    .option('--max-connections <n|none>', 'open connections per process (overrides the profile)')
    .option('--admission <rate,burst,queue|none>', 'token-bucket admission per process (overrides the profile)')
    .option(
      '--outage <at,duration[,share[,mode]]>',
      'scheduled outage, e.g. 30s,10s,1,reset (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--message-loss-rate <share>', 'share of deliveries silently dropped')
    .option('--webhook <url>', 'forward publishes as HTTP POSTs to this loopback URL')
    .option('--webhook-loss-rate <share>', 'share of webhook forwards silently dropped')
    .addHelpText(
      'after',
      '\nExamples:\n  $ herd target --profile fragile\n  $ herd target --profile protected --processes 2 --tls\n  $ herd target --port 1883 --outage 30s,10s,0.5,reset\n\nSee docs/target.md for every knob and default.',
    )
    .action(async (f: TargetFlags) => {
      // Loaded when the command runs, not when the CLI starts.
      const [{ parseTargetOptions }, { spawnResolvedTarget }] = await Promise.all([
        import('../../target/options.js'),
        import('../../target/spawn.js'),
      ]);
      let options: ResolvedTargetOptions;
      try {
        options = parseTargetOptions(targetInputFromFlags(f), WHERE, 'E_FLAG');
      } catch (err) {
        if (err instanceof HerdError) {
          const details = err.details.map((d) => d.replace(/^herd target\.(\w+)/, (_m, k: string) => FLAG_FOR[k] ?? k));
          throw new HerdError(err.code, `${WHERE}: bad flags`, details);
        }
        throw err;
      }
      const target = await spawnResolvedTarget(options);
      ctx.stdout.write(describeTarget(target) + 'Ctrl-C to stop.\n');
      let off = (): void => {};
      const signalled = new Promise<null>((resolve) => {
        off = ctx.onSignal(() => resolve(null));
      });
      // A target process that dies on its own ends the command too, loudly.
      const ended = await Promise.race([signalled, target.firstExit]);
      off();
      await target.stop();
      if (ended !== null) {
        throw new HerdError(
          'E_TARGET_START',
          `target process ${ended.index} exited unexpectedly (${ended.signal ?? `code ${ended.code}`})`,
        );
      }
      ctx.stdout.write('herd target stopped\n');
    });
}
