/** The report page's CSS, inlined so report.html opens anywhere without a network. */
export const REPORT_CSS = `
:root{--bg:#f6f7f9;--card:#fff;--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--ok:#15803d;--bad:#c62828;--warn:#b45309;
--c-connected:#2563eb;--c-handshaking:#f59e0b;--c-disconnects:#dc2626;--c-wave:#7c3aed;--c-outage:#dc2626;
--c-succeeded:#22a06b;--c-timeout:#f59e0b;--c-protocol:#8b5cf6;--c-network:#e5484d;--c-tls:#0ea5e9;--c-local:#6b4f1d;--c-dropped:#98a2b3;--c-attempts:#1d2330;
--c-p50:#22a06b;--c-p90:#2563eb;--c-p99:#e5484d;--c-max:#7c3aed;--c-loopdelay:#98a2b3;
--c-connect-total:#2563eb;--c-connect-service:#22a06b;--c-connect-scheduleLag:#98a2b3;--c-phase-tcpConnect:#f59e0b;--c-phase-mqttConnack:#8b5cf6;
--c-phase-tlsHandshake:#0ea5e9;--c-phase-wsUpgrade:#14b8a6;--c-phase-dns:#a16207;--c-connect-failed:#e5484d}
@media (prefers-color-scheme:dark){:root{--bg:#0f1218;--card:#171b23;--fg:#e6e8ec;--muted:#98a2b3;--line:#2a303c;--c-attempts:#e6e8ec}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1060px;margin:0 auto;padding:24px 16px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 4px}
.sub{color:var(--muted);margin:0 0 16px}
.badge{display:inline-block;padding:2px 10px;border-radius:999px;font-weight:600;font-size:13px;vertical-align:middle;margin-left:8px;color:#fff}
.badge.passed{background:var(--ok)}.badge.failed{background:var(--bad)}
.banner{border-radius:8px;padding:12px 16px;margin:0 0 16px;border:1px solid}
.banner.saturated{background:#fff7e6;border-color:#f5c26b;color:#6b3f00}
.banner.aborted{background:#fdecec;border-color:#f3a5a5;color:#7a1010}
.banner ul{margin:6px 0 0;padding-left:20px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px;margin:0 0 16px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:12px;margin:0 0 16px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px}
.kpi .v{font-size:22px;font-weight:600}.kpi .l{color:var(--muted);font-size:12px}
.kpi.bad .v{color:var(--bad)}.kpi.ok .v{color:var(--ok)}
.hint{color:var(--muted);margin:0 0 8px;font-size:13px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:0 0 6px;font-size:12px;color:var(--muted)}
.legend-item{display:inline-flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:14px;height:10px;border-radius:2px;background:var(--c)}
.swatch-line{height:3px}.swatch-dash{height:0;border-top:2px dashed var(--c);background:none}
svg.chart{width:100%;height:auto;display:block}
.chart-empty{padding:40px;text-align:center;color:var(--muted);border:1px dashed var(--line);border-radius:8px}
.grid{stroke:var(--line);stroke-width:1}.axis{stroke:var(--muted);stroke-width:1}
.tick{fill:var(--muted);font-size:11px}.axis-title{fill:var(--muted);font-size:12px}
.series.line{fill:none;stroke:var(--c);stroke-width:2;stroke-linejoin:round}
.series.bars{fill:var(--c);stroke:none}
.area-fill{fill:var(--c);opacity:.12;stroke:none}
.dots circle{fill:var(--c)}
.c-loopdelay.line{stroke-dasharray:5 4;stroke-width:1.5}
.c-handshaking.line{stroke-width:1.5}
.c-attempts.line{stroke-width:1.5;opacity:.8}
.wave-span{fill:var(--c-wave);opacity:.06}.wave-span-outage{fill:var(--c-disconnects);opacity:.1}
.outage{fill:var(--c-disconnects);opacity:.09}
.marker line{stroke-width:1.5;stroke-dasharray:6 4}
.marker-wave line{stroke:var(--c-wave)}.marker-wave text{fill:var(--c-wave);font-size:11px;font-weight:600}
.marker-outage line{stroke:var(--c-disconnects)}.marker-outage text{fill:var(--c-disconnects)}
.marker-teardown line{stroke:var(--muted)}.marker-teardown text{fill:var(--muted);font-size:11px}
.marker-planned line{stroke:var(--muted);stroke-dasharray:2 4;stroke-width:1}.marker-planned text{fill:var(--muted);font-size:11px}
.hover rect{fill:transparent}.hover rect:hover{fill:var(--fg);opacity:.06}
${[
  'connected',
  'handshaking',
  'disconnects',
  'wave',
  'outage',
  'succeeded',
  'timeout',
  'protocol',
  'network',
  'tls',
  'local',
  'dropped',
  'attempts',
  'p50',
  'p90',
  'p99',
  'max',
  'loopdelay',
  'connect-total',
  'connect-service',
  'connect-scheduleLag',
  'phase-tcpConnect',
  'phase-mqttConnack',
  'phase-tlsHandshake',
  'phase-wsUpgrade',
  'phase-dns',
  'connect-failed',
]
  .map((s) => `.c-${s}{--c:var(--c-${s})}`)
  .join('')}
.c-connect-failed.line{stroke-dasharray:4 3}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.fail td{color:var(--bad)}.mark-ok{color:var(--ok);font-weight:700}.mark-bad{color:var(--bad);font-weight:700}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}@media (max-width:800px){.two{grid-template-columns:1fr}}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:24px}
`;
