// A worker that speaks the coordinator protocol but leaves the instant its final message is
// written (no wait for 'bye'), or — with argv "silent" — leaves cleanly without any final
// message. The coordinator must take the first for a clean finish and the second for a death.
import { Recorder } from '../../dist/metrics/recorder.js';

const silent = process.argv[2] === 'silent';
let devices = 0;
process.on('message', (m) => {
  if (m.type === 'init') {
    devices = 0;
    process.send({ type: 'ready', devices });
  } else if (m.type === 'go') {
    if (silent) process.exit(0);
    const rec = new Recorder(m.cohorts ?? ['default']);
    const delta = rec.finishCurrent(0, 0);
    const health = {
      loopDelayP99Us: 0,
      loopDelayMaxUs: 0,
      loopUtilisation: 0,
      cpuPercent: 0,
      rssBytes: 0,
      openFiles: 0,
      scheduleLagMaxUs: 0,
    };
    // A final message as large as a real one with many histograms: it takes several reads.
    const padding = 'x'.repeat(256 * 1024);
    process.send(
      { type: 'done', delta, health, planned: devices, inFlightAtEnd: 0, delivery: {}, names: [], padding },
      () => process.exit(0),
    );
  }
});
