/** Latency series recorded for every attempt; see docs/metrics.md. */
export const LATENCY_KEYS = [
  'connect.total',
  'connect.service',
  'connect.scheduleLag',
  'connect.failed',
  'phase.dns',
  'phase.tcpConnect',
  'phase.tlsHandshake',
  'phase.tlsFull',
  'phase.tlsResumed',
  'phase.wsUpgrade',
  'phase.mqttConnack',
  'message.subscribeAck',
  'message.publishAck',
  'delivery.latency',
  'request.roundTrip',
  'downlink.latency',
  'replay.drain',
  'replay.duration',
] as const;
export type LatencyKey = (typeof LATENCY_KEYS)[number];
