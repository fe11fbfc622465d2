#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/cli (built by `npm install` through the prepare script).
// A Ctrl-C while the CLI loads is kept and handed to the command, which then stops cleanly
// (herd run writes its report marked aborted); a command that never listens exits 130 after.
const early = [];
const keep = (sig) => early.push(sig);
process.on('SIGINT', keep);
process.on('SIGTERM', keep);
const { runCli } = await import('../dist/cli/main.js');
const { processContext } = await import('../dist/cli/context.js');

const ctx = processContext(early);
process.off('SIGINT', keep);
process.off('SIGTERM', keep);
let code = await runCli(ctx);
if (early.length > 0) code = 130;
process.exitCode = code;
// Give stdout a moment to drain, then leave even if a stray handle is open.
setTimeout(() => process.exit(code), 50).unref();
