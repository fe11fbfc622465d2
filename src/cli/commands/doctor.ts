import type { Command } from 'commander';
import { loadScenario } from '../../scenario/load.js';
import { runPreflight } from '../../run/execute.js';
import { readSystemFacts } from '../../engine/system.js';
import { parseTargetUrl } from '../../util/target-url.js';
import { parseSourceIps } from '../../util/source-ips.js';
import type { CliContext } from '../context.js';
import { painter } from '../output.js';
import { parseFlagNumber } from '../flags.js';
import { EXIT } from '../../errors.js';

export function registerDoctor(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  program
    .command('doctor')
    .description("check this machine's limits against a scenario's plan before running it")
    .argument('[scenario]', 'scenario file; without it, only the machine is described')
    .option('--devices <n>', 'number of devices, overriding the scenario')
    .option('--workers <n>', 'worker processes you intend to use')
    .option('--source-ips <spec>', 'source addresses you intend to use')
    .addHelpText('after', '\nExample:\n  $ herd doctor scenarios/quickstart.yaml --devices 100000')
    .action((path: string | undefined, f: { devices?: string; workers?: string; sourceIps?: string }) => {
      const p = painter(ctx);
      const facts = readSystemFacts();
      const out = (s: string): void => void ctx.stdout.write(s + '\n');
      out(p.bold('Machine'));
      out(`  cores ${facts.cores} · free memory ${Math.floor(facts.freeMemoryBytes / 1048576)} MiB · open files ${facts.openFileLimit.soft ?? 'unlimited'} (hard ${facts.openFileLimit.hard ?? 'unlimited'})`);
      out(`  ephemeral ports ${facts.ephemeralPortRange ? facts.ephemeralPortRange.join('–') : 'unknown'} · TIME_WAIT sockets ${[...facts.timeWaitByIp.values()].reduce((a, b) => a + b, 0)}`);
      if (path === undefined) return;
      const overrides = f.devices === undefined ? {} : { devices: parseFlagNumber(f.devices, '--devices', { min: 1, max: 10_000_000 }) };
      const { resolved: s } = loadScenario(path, overrides);
      const workers = f.workers === undefined ? undefined : parseFlagNumber(f.workers, '--workers', { min: 1, max: 256 });
      const sourceIps = f.sourceIps === undefined ? [] : parseSourceIps(f.sourceIps);
      const host = s.target === 'embedded' ? '127.0.0.1' : parseTargetUrl(s.target).host;
      const r = runPreflight(s, { workers, sourceIps }, [host]);
      out('');
      out(p.bold(`Plan: ${s.name}`) + ` — ${s.devices} devices → ${s.target}, ${r.workers} worker${r.workers === 1 ? '' : 's'}` +
        (r.sourceIps.length > 0 ? `, ${r.sourceIps.length} source addresses` : ''));
      for (const c of r.checks) out(`  ${c.ok ? p.ok('✓') : p.bad('✗')} ${c.name.padEnd(44)} need ${c.need.padEnd(10)} have ${c.have}`);
      for (const a of r.advice) out(p.warn(`  → ${a}`));
      for (const x of r.problems) out(p.bad(`  ✗ ${x}`));
      out(r.problems.length === 0 ? p.ok('Ready to run.') : p.bad('Not ready: fix the problems above.'));
      setExit(r.problems.length === 0 ? EXIT.ok : EXIT.runFailed);
    });
}
