import type { Command } from 'commander';
import { pathIn, type CliContext } from '../context.js';
import { formatUs } from '../../util/duration.js';
import { sizeOverrides } from '../flags.js';
import { escapeControl } from '../../util/control-chars.js';

export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('check a scenario file and print what it will do, without opening a socket')
    .argument('<scenario>', 'scenario file (YAML or JSON)')
    .option('--devices <n>', 'number of devices, overriding the scenario (before --scale)')
    .option('--scale <x>', 'multiply devices and rates, as `herd run --scale` will')
    .addHelpText(
      'after',
      '\nExamples:\n  $ herd validate scenarios/quickstart.yaml\n  $ herd validate scenarios/nightly-5x.yaml --scale 5',
    )
    .action(async (path: string, f: { devices?: string; scale?: string }) => {
      const overrides = sizeOverrides(f);
      // Loaded when the command runs, not when the CLI starts.
      const [
        { loadScenario },
        { buildPlan, peakConnectRatePerS },
        { painter },
        { checkRunTargets },
        { describeThreshold },
      ] = await Promise.all([
        import('../../scenario/load.js'),
        import('../../plan/plan.js'),
        import('../output.js'),
        import('../../run/targets.js'),
        import('../../scenario/threshold-parse.js'),
      ]);
      const { resolved: s, thresholds, warnings } = loadScenario(pathIn(ctx, path), overrides, ctx.cwd);
      // TLS files and versions, device kind against scheme: what `herd run` checks before --out.
      checkRunTargets(s);
      const plan = buildPlan(s);
      const p = painter(ctx);
      ctx.stdout.write(
        `${p.ok('✓')} ${escapeControl(path, false)}: scenario "${escapeControl(s.name, false)}" is valid\n`,
      );
      for (const w of warnings) ctx.stderr.write(`${p.warn('warning:')} ${escapeControl(w, false)}\n`);
      ctx.stdout.write(
        `  ${s.devices} devices → ${s.target}, ${s.waves.length} wave${s.waves.length === 1 ? '' : 's'}, ` +
          `teardown at ${formatUs(s.durationUs)}, peak ${peakConnectRatePerS(plan)} connects/s, ${thresholds.length} threshold${thresholds.length === 1 ? '' : 's'}\n`,
      );
      // Each threshold as herd read it, so "< 1" meaning 1% or 100% is never a guess.
      for (const t of thresholds) ctx.stdout.write(`    ${describeThreshold(t)}\n`);
      // How each publishing cohort keeps its messages (issue 24): what a preset chose is visible.
      for (const c of s.cohorts) {
        const st = c.device.publish?.store;
        if (st === undefined) continue;
        const queue = st.offlineQueue === null ? 'unbounded' : String(st.offlineQueue);
        ctx.stdout.write(
          `  cohort ${escapeControl(c.name, false)}: publish.store resend ${st.resend} · offline queue ${queue}` +
            (st.offlineQueue === 0 ? '' : ` (${st.overflow})`) +
            ` · QoS 0 offline ${st.queueQos0 ? 'queued' : 'dropped'}\n`,
        );
      }
      // When its commands would run, never the lines themselves (validate output ends up in CI logs).
      for (const o of s.declaredOutages)
        ctx.stdout.write(
          `  declared outage ${o.name}: break at ${formatUs(o.atUs)}` +
            (o.restore === null ? '' : `, restore at ${formatUs(o.atUs + o.offlineUs)}`) +
            ' (herd run runs them only with --allow-commands)\n',
        );
    });
}
