/** End-to-end message accounting in results.json (issue 24: who lost each message). */

export interface DeliveryCounts {
  /** Every message a device meant to publish: delivered + lostByCloud + neverAcknowledged + droppedByDevice. */
  published: number;
  sent: number;
  delivered: number;
  lost: number;
  /** Acknowledged by the target (PUBACK / PUBCOMP), never delivered by the end of the run. */
  lostByCloud: number;
  /** Never acknowledged, never delivered: in flight when a session ended and not resent, QoS 0, still queued. */
  neverAcknowledged: number;
  /** Never sent, dropped by the device: offline queue full, store none, refused (in-flight cap, send buffer). */
  droppedByDevice: number;
  /** Of neverAcknowledged: still in the device's offline queue at the end. */
  queuedAtEnd: number;
  /** Resends after a reconnect (DUP set): the same messages again. */
  resent: number;
  /** = duplicatedByResend (of a message its device resent) + duplicatedByCloud (the cloud made them up). */
  duplicated: number;
  duplicatedByResend: number;
  duplicatedByCloud: number;
  outOfOrder: number;
  tooLate: number;
  foreign: number;
}

/** Every count at zero: the start of a sum over streams or cohorts. */
export function emptyDeliveryCounts(): DeliveryCounts {
  return {
    published: 0,
    sent: 0,
    delivered: 0,
    lost: 0,
    lostByCloud: 0,
    neverAcknowledged: 0,
    droppedByDevice: 0,
    queuedAtEnd: 0,
    resent: 0,
    duplicated: 0,
    duplicatedByResend: 0,
    duplicatedByCloud: 0,
    outOfOrder: 0,
    tooLate: 0,
    foreign: 0,
  };
}

export interface DeliveryResult extends DeliveryCounts {
  /** lost / sent (0 when nothing was sent). */
  lossRate: number;
  /** Publishes refused on the device (send buffer or in-flight cap full): never sent. */
  refused: number;
  /** Deliveries the embedded target dropped on purpose (its own count); null for another target. */
  targetDropped: number | null;
  byCohort: Record<string, DeliveryCounts>;
}
