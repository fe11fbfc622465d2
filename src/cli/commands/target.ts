import type { Command } from 'commander';
import { startBroker } from '../../target/broker.js';
import type { CliContext } from '../context.js';
import { parseFlagNumber } from '../flags.js';
import { HerdError } from '../../errors.js';
import { isIP } from 'node:net';

export function registerTarget(program: Command, ctx: CliContext): void {
  program
    .command('target')
    .description('run the embedded reference target (an MQTT broker) until Ctrl-C')
    .option('--host <address>', 'loopback address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 picks a free one)', '1883')
    .addHelpText('after', '\nExample:\n  $ herd target --port 1883\n  $ herd run scenarios/quickstart.yaml --target mqtt://127.0.0.1:1883')
    .action(async (f: { host: string; port: string }) => {
      if (isIP(f.host) === 0) throw new HerdError('E_FLAG', `--host: expected an IP address, got ${JSON.stringify(f.host)}`);
      const port = parseFlagNumber(f.port, '--port', { min: 0, max: 65535 });
      let broker;
      try {
        broker = await startBroker({ host: f.host, port, backlog: 4096 });
      } catch (err) {
        throw new HerdError('E_TARGET_START', `cannot listen on ${f.host}:${port} (${(err as { code?: string }).code ?? String(err)})`);
      }
      ctx.stdout.write(`herd target listening\n  mqtt  ${broker.url}\nCtrl-C to stop.\n`);
      await new Promise<void>((resolve) => {
        const off = ctx.onSignal(() => {
          off();
          resolve();
        });
      });
      await broker.close();
      ctx.stdout.write('herd target stopped\n');
    });
}
