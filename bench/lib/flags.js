/** The bench's command line: sizes, bounds and what to measure. Bad flags exit 2 with a message. */
import * as os from 'node:os';

/** One target process holds at most ~19,900 sockets here (20,000 open files per process). */
export const TARGET_PROCESS_MAX = 19_500;

export const USAGE = `npm run bench -- [options]      (or: node bench/run.js [options] after npm run build)

Measures MQTT 3.1.1 CONNECT→CONNACK over TCP on loopback against Mosquitto (when installed) and
herd's embedded target, for herd and for the C reference client (bench/c/mqtt_ref.c).

  --quick                 reduced sizes and repeats (about 2-3 minutes)
  --max-connections N     largest held-connection count and per-run size (default 19000, quick 10000;
                          at most ${TARGET_PROCESS_MAX}: one target process holds < 20,000 sockets)
  --workers N             herd worker processes (default: cores = ${os.availableParallelism()})
  --inflight K            handshakes in flight for the ceiling runs, herd (split over workers) and C (default 64;
                          keep it under Mosquitto's listen backlog of 100)
  --targets LIST          mosquitto,embedded (default: both; mosquitto only when installed)
  --start-rate R          first offered rate of the step search (default: 0.6 × herd's ceiling)
  --max-steps N           step runs per target (default 10, quick 5)
  --repeats N             ceiling runs per tool and target, median reported (default 3, quick 1)
  --no-step-guard         step runs against a target with a small listen backlog (Mosquitto: 100) without
                          the in-flight guard (default: guard at backlog − 4 in flight, see docs/performance.md)
  --source-pool A-B       source addresses handed out to runs (default 127.0.0.64-127.0.0.254)
  --max-minutes M         stop measuring after M minutes and report what was measured (default 30, quick 10)
  --out DIR               where bench-<date>.json and run files go (default bench/out)
  --help`;

function num(v, flag, min, max) {
  const n = Number(v);
  if (v === undefined || !/^\d+(\.\d+)?$/.test(v) || !(n >= min && n <= max)) {
    throw new BenchFlagError(`${flag}: expected a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

export class BenchFlagError extends Error {}

export function parseFlags(argv) {
  const quick = argv.includes('--quick');
  const o = {
    quick,
    help: false,
    maxConnections: quick ? 10_000 : 19_000,
    workers: os.availableParallelism(),
    inflight: 64,
    targets: ['mosquitto', 'embedded'],
    startRate: null,
    stepGuard: true,
    maxSteps: quick ? 5 : 10,
    repeats: quick ? 1 : 3,
    sourcePool: '127.0.0.64-127.0.0.254',
    maxMinutes: quick ? 10 : 30,
    out: 'bench/out',
    stepSeconds: quick ? 1.5 : 3,
    stepHoldMs: 1_000,
    memHoldMs: quick ? 3_000 : 10_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const take = () => {
      i++;
      return v;
    };
    switch (a) {
      case '--quick':
        break;
      case '--no-step-guard':
        o.stepGuard = false;
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      case '--max-connections':
        o.maxConnections = Math.round(num(take(), a, 100, TARGET_PROCESS_MAX));
        break;
      case '--workers':
        o.workers = Math.round(num(take(), a, 1, 64));
        break;
      case '--inflight':
        o.inflight = Math.round(num(take(), a, 1, 10_000));
        break;
      case '--targets': {
        const list = String(take() ?? '')
          .split(',')
          .filter(Boolean);
        if (list.length === 0 || list.some((t) => t !== 'mosquitto' && t !== 'embedded')) {
          throw new BenchFlagError(`--targets: expected a list of mosquitto and embedded, got ${JSON.stringify(v)}`);
        }
        o.targets = list;
        break;
      }
      case '--start-rate':
        o.startRate = Math.round(num(take(), a, 10, 1_000_000));
        break;
      case '--max-steps':
        o.maxSteps = Math.round(num(take(), a, 1, 50));
        break;
      case '--repeats':
        o.repeats = Math.round(num(take(), a, 1, 10));
        break;
      case '--source-pool':
        o.sourcePool = String(take());
        break;
      case '--max-minutes':
        o.maxMinutes = num(take(), a, 1, 240);
        break;
      case '--out':
        o.out = String(take());
        break;
      default:
        throw new BenchFlagError(`unknown option ${JSON.stringify(a)}\n\n${USAGE}`);
    }
  }
  return o;
}
