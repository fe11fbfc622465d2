#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/cli (built by `npm install` through the prepare script).
// The signal router is the first thing that runs, so a Ctrl-C while the CLI loads is never lost.
import { installSignalRouter } from '../dist/cli/signal-router.js';

const signals = installSignalRouter(process, (code) => process.exit(code));
const { runCli } = await import('../dist/cli/main.js');
const { processContext } = await import('../dist/cli/context.js');

let code = await runCli(processContext(signals));
if (signals.pending > 0) code = 130;
process.exitCode = code;
// Once stdout and stderr have handed everything to a pipe (a reader may be slower than herd), give
// them a moment, then leave even if a stray handle is open.
let flushed = 0;
const leave = () => {
  if (++flushed === 2) setTimeout(() => process.exit(code), 50).unref();
};
process.stdout.write('', leave);
process.stderr.write('', leave);
