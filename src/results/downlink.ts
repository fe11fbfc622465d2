/**
 * results.downlink (issue 16): cloud → device messages and persistent-session replay, built from
 * the run's tallies (counts by "name|cohort", summed exactly across workers and shards).
 */
import { z } from 'zod';
import { count } from './schema-parts.js';

export interface DownlinkCounts {
  /** Messages the cloud's side handed to the target for this cohort's devices. */
  sent: number;
  /** Distinct messages the devices received. */
  received: number;
  /** sent − received: never received (sent while no subscription existed, or dropped by the target). */
  lost: number;
  /** Of lost: the target acknowledged them (PUBACK / PUBCOMP) and never delivered them. */
  lostByCloud: number;
  /** Of lost: never acknowledged (the cloud side's connection died with them in flight, or QoS 0). */
  neverAcknowledged: number;
  duplicated: number;
  /** Arrived so late (past the sequence window) they cannot be told from duplicates: counted lost. */
  tooLate: number;
  /** Sends skipped because the cloud's connection was down or full: never sent, never lost. */
  notSent: number;
  /** Connects of persistent devices (after their first subscription) whose session the target kept / did not keep. */
  sessions: { resumed: number; lost: number };
  replay: {
    /** Resumed sessions that had messages waiting. */
    sessions: number;
    /** Messages waiting at those sessions' CONNACK. */
    backlog: number;
    /** Of those, received in the same session (the replay). */
    messages: number;
    /** Replays that delivered their whole backlog, and those whose session ended (or the run) first. */
    drained: number;
    undrained: number;
    /** Replayed messages per resumed session with a backlog; null when none. */
    meanPerSession: number | null;
  };
}

export interface DownlinkResult extends DownlinkCounts {
  byCohort: Record<string, DownlinkCounts>;
}

const TALLIES = [
  'downlink.sent',
  'downlink.received',
  'downlink.duplicated',
  'downlink.tooLate',
  'downlink.notSent',
  'downlink.lostByCloud',
  'sessions.resumed',
  'sessions.lost',
  'replay.sessions',
  'replay.backlog',
  'replay.messages',
  'replay.drained',
  'replay.undrained',
] as const;

function countsOf(t: (name: (typeof TALLIES)[number]) => number): DownlinkCounts {
  const sent = t('downlink.sent');
  const received = t('downlink.received');
  const sessions = t('replay.sessions');
  const messages = t('replay.messages');
  const lost = Math.max(0, sent - received);
  const lostByCloud = Math.min(lost, t('downlink.lostByCloud'));
  return {
    sent,
    received,
    lost,
    lostByCloud,
    neverAcknowledged: lost - lostByCloud,
    duplicated: t('downlink.duplicated'),
    tooLate: t('downlink.tooLate'),
    notSent: t('downlink.notSent'),
    sessions: { resumed: t('sessions.resumed'), lost: t('sessions.lost') },
    replay: {
      sessions,
      backlog: t('replay.backlog'),
      messages,
      drained: t('replay.drained'),
      undrained: t('replay.undrained'),
      meanPerSession: sessions === 0 ? null : messages / sessions,
    },
  };
}

/** results.downlink from tallies keyed "name|cohort"; null when no cohort takes downlink messages. */
export function downlinkResult(
  tallies: ReadonlyMap<string, number>,
  cohortsWithDownlink: readonly string[],
): DownlinkResult | null {
  if (cohortsWithDownlink.length === 0) return null;
  const byCohort: Record<string, DownlinkCounts> = {};
  for (const c of cohortsWithDownlink) byCohort[c] = countsOf((name) => tallies.get(`${name}|${c}`) ?? 0);
  const total = countsOf((name) => cohortsWithDownlink.reduce((a, c) => a + (tallies.get(`${name}|${c}`) ?? 0), 0));
  return { ...total, byCohort };
}

/** The tallies behind a results.downlink, keyed "name|cohort" as downlinkResult reads them (herd merge). */
export function downlinkTallies(d: DownlinkResult | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [c, k] of Object.entries(d?.byCohort ?? {}))
    for (const [name, v] of tallyPairs(k)) out[`${name}|${c}`] = v;
  return out;
}

function tallyPairs(k: DownlinkCounts): [string, number][] {
  return [
    ['downlink.sent', k.sent],
    ['downlink.received', k.received],
    ['downlink.duplicated', k.duplicated],
    ['downlink.tooLate', k.tooLate],
    ['downlink.notSent', k.notSent],
    ['downlink.lostByCloud', k.lostByCloud],
    ['sessions.resumed', k.sessions.resumed],
    ['sessions.lost', k.sessions.lost],
    ['replay.sessions', k.replay.sessions],
    ['replay.backlog', k.replay.backlog],
    ['replay.messages', k.replay.messages],
    ['replay.drained', k.replay.drained],
    ['replay.undrained', k.replay.undrained],
  ];
}

const downlinkCounts = {
  sent: count('Messages the cloud’s side handed to the target for these devices.'),
  received: count('Distinct messages the devices received.'),
  lost: count(
    'sent − received: sent while the device had no subscription (clean sessions offline), or dropped by the target.',
  ),
  lostByCloud: count(
    'Of lost: acknowledged by the target (PUBACK / PUBCOMP) and never delivered (0 in files before 1.4.0).',
  ).default(0),
  neverAcknowledged: count(
    'Of lost: never acknowledged (the cloud side’s connection died with them in flight, or QoS 0); files before 1.4.0 read as lost.',
  ).default(0),
  duplicated: count('Messages received more than once.'),
  tooLate: count('Messages so late they cannot be told from duplicates (counted lost).'),
  notSent: count('Sends skipped because the cloud’s connection was down or full (never sent).'),
  sessions: z
    .object({
      resumed: count('Reconnects of persistent devices whose session the target kept.'),
      lost: count('Reconnects of persistent devices whose session the target did not keep.'),
    })
    .meta({
      description:
        'Persistent sessions across reconnects (devices with clean session off or an MQTT 5 session expiry).',
    }),
  replay: z
    .object({
      sessions: count('Resumed sessions that had messages waiting.'),
      backlog: count('Messages waiting at those sessions’ CONNACK.'),
      messages: count('Of those, received in the same session (the replay).'),
      drained: count(
        'Replays that delivered their whole backlog (time: latency["replay.drain"], latency["replay.duration"]).',
      ),
      undrained: count('Replays whose session (or the run) ended before the backlog was delivered.'),
      meanPerSession: z
        .number()
        .min(0)
        .nullable()
        .meta({ description: 'Replayed messages per resumed session with a backlog; null when none.' }),
    })
    .meta({ description: 'What the target replayed on reconnect.' }),
};

export const downlinkResultSchema = z
  .object({
    ...downlinkCounts,
    byCohort: z.record(z.string(), z.object(downlinkCounts)).meta({ description: 'The same counts per cohort.' }),
  })
  .nullable()
  .default(null)
  .meta({
    description:
      'Cloud → device messages and persistent-session replay (issue 16); null when no cohort takes downlink messages.',
  });
