/** Renders the bench's summary table from the bench JSON (presentation only). */

const W0 = 44;
const W = 12;

function n0(x) {
  return x === null || x === undefined || Number.isNaN(x) ? '—' : Math.round(x).toLocaleString('en-US');
}
function ratio(a, b) {
  return a === null || b === null || a === undefined || b === undefined || b === 0 ? '—' : `${(a / b).toFixed(2)}×`;
}
function kb(x) {
  return x === null || x === undefined ? '—' : `${(x / 1024).toFixed(2)} KB`;
}

export function renderTable(report) {
  const lines = [];
  const m = report.machine;
  lines.push('');
  lines.push(`herd bench — MQTT 3.1.1 CONNECT→CONNACK over TCP on loopback`);
  lines.push(
    `${m.cpus} cores (${m.cpuModel}) · node ${m.node} · ${report.options.workers} herd workers · ` +
      `${report.options.quick ? 'quick' : 'full'} · load before ${m.loadBefore.map((x) => x.toFixed(2)).join(' ')}` +
      (report.noisy ? ' · NOISY: other work was running, figures are indicative only' : ''),
  );
  for (const t of report.targets) {
    lines.push('');
    lines.push(`${t.label} ${t.version === 'herd embedded target' ? '' : t.version}`.trim());
    if (t.error) {
      lines.push(`  not measured: ${t.error}`);
      continue;
    }
    lines.push(`  ${'figure'.padEnd(W0)}${'herd'.padStart(W)}${'C ref'.padStart(W)}${'herd / C'.padStart(W)}`);
    const row = (name, h, c, r = ratio(h, c), fmt = n0) =>
      lines.push(`  ${name.padEnd(W0)}${fmt(h).padStart(W)}${fmt(c).padStart(W)}${r.padStart(W)}`);
    const ref = t.reference;
    const refCeiling = ref?.ceilingPerS ?? null;
    row(
      `sustained handshakes/s${t.herd.stepGuardInFlight ? ` (≤${t.herd.stepGuardInFlight} in flight)` : ''}`,
      t.herd.sustained?.offeredPerS ?? null,
      refCeiling,
    );
    row(`ceiling handshakes/s (${report.options.inflight} in flight)`, t.herd.ceilingPerS, refCeiling);
    row(
      'harness CPU µs/connection (sustained)',
      t.herd.sustained?.cpuUsPerConnection ?? null,
      ref?.cpuUsPerConnection ?? null,
    );
    row('harness CPU µs/connection (ceiling)', t.herd.ceilingCpuUsPerConnection, ref?.cpuUsPerConnection ?? null);
    for (const mem of t.herd.memory) {
      const c = ref?.memory.find((x) => x.connections === mem.connections) ?? null;
      row(`bytes/held conn @ ${n0(mem.held)} (RSS Δ)`, mem.rssBytesPerConnection, c?.bytesPerHeldConnection ?? null);
      if (mem.afterGc) {
        row('  RSS Δ after GC', mem.afterGc.rssBytesPerConnection, null, '');
        row('  live JS heap (after GC)', mem.afterGc.heapUsedBytesPerConnection, null, '');
        row('  V8 heap committed Δ (after GC)', mem.afterGc.heapTotalBytesPerConnection, null, '');
        row('  external (Buffers, after GC)', mem.afterGc.externalBytesPerConnection, null, '');
        row('  native rest (RSS − heap − external)', mem.afterGc.nativeBytesPerConnection, null, '');
      }
    }
    const mg = t.herd.marginal;
    if (mg) {
      const refA = ref?.memory[0];
      const refB = ref?.memory.at(-1);
      const refMarginal =
        refA && refB && refB.held > refA.held
          ? (refB.bytesPerHeldConnection * refB.held - refA.bytesPerHeldConnection * refA.held) /
            (refB.held - refA.held)
          : null;
      row(`marginal bytes/conn ${n0(mg.from)}→${n0(mg.to)} (RSS)`, mg.rssBytesPerConnection, refMarginal);
      row('  live JS heap (after GC)', mg.heapUsedAfterGcBytesPerConnection, null, '');
      row('  V8 heap committed (after GC)', mg.heapTotalAfterGcBytesPerConnection, null, '');
    }
    row(
      'target CPU µs/connection (sustained step)',
      t.herd.sustained?.targetCpuUsPerConnection ?? null,
      ref?.targetCpuUsPerConnection ?? null,
      '',
    );
    if (t.herd.sustained === null)
      lines.push(`  no offered rate passed: ${t.herd.steps.map((s) => `${s.offeredPerS}/s ✗`).join(', ')}`);
    lines.push(`  steps: ${t.herd.steps.map((s) => `${n0(s.offeredPerS)}/s ${s.pass ? '✓' : '✗'}`).join('  ')}`);
    if (ref?.skipped) lines.push(`  C reference skipped: ${ref.skipped}`);
    for (const note of t.notes) lines.push(`  note: ${note}`);
  }
  lines.push('');
  lines.push(
    `targets (issue 3, this machine): ≥ 12,000 handshakes/s sustained (≥ 1/3 of the C reference), ≤ 3 KB (${kb(3072)}) per held idle connection`,
  );
  return lines.join('\n');
}
