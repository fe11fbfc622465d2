/**
 * Child-process entry of the embedded target. Reports its endpoint to the parent over IPC and
 * exits when the parent goes away, so no orphan target is ever left behind.
 */
import { startBroker, DEFAULT_BROKER } from './broker.js';
import type { TargetMessage } from './spawn.js';

const options = { ...DEFAULT_BROKER, ...(JSON.parse(process.argv[2] ?? '{}') as Partial<typeof DEFAULT_BROKER>) };
const broker = await startBroker(options);
const ready: TargetMessage = { type: 'listening', url: broker.url, host: broker.host, port: broker.port };
process.send?.(ready);
process.on('disconnect', () => {
  void broker.close().finally(() => process.exit(0));
});
process.on('SIGTERM', () => {
  void broker.close().finally(() => process.exit(0));
});
// Ctrl-C goes to the whole process group; the parent decides when the target stops.
process.on('SIGINT', () => {});
