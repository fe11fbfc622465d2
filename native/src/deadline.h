/*
 * Connect deadlines, owned by the core instead of one JavaScript timer per attempt. The attempts
 * of one connect timeout are queued in open order, so their deadlines are too: one FIFO ring per
 * distinct timeout, whose head is the next to expire, and one uv_timer armed at the earliest head.
 * A deadline is the attempt's open on the loop's clock (uv_update_time, then uv_now) plus its timeout
 * in ms, and it expires once that clock reaches it: the rule of a Node timer started at the open. An
 * attempt that got its CONNACK, failed, or was dropped leaves a stale entry, skipped (never
 * reported) when it reaches the head; heads are pruned on every poll, so a ring holds the attempts
 * since the oldest one still pending. Expiry is judged only after the sockets were read (the timer's
 * `fired` reads first), so an answer that reached a socket while the loop was busy is never a timeout.
 */
#ifndef HERD_DEADLINE_H
#define HERD_DEADLINE_H
#include <stdint.h>
#include <uv.h>

struct wire;
struct deadline_ring;

struct deadlines {
  struct wire *w;
  uv_timer_t *timer; /* unreferenced: the poll handle keeps the loop alive while attempts are open */
  uint64_t armed_at; /* loop ms the timer fires at; 0 when stopped */
  struct deadline_ring *rings;
  uint32_t nrings;
  /* the timer expired: read what reached the sockets, then deadlines_run, then hand the outcomes to JavaScript */
  void (*fired)(void *ctx);
  void *ctx;
};

int deadlines_init(struct deadlines *d, struct wire *w, uv_loop_t *loop, void (*fired)(void *), void *ctx);
void deadlines_free(struct deadlines *d);
/* Queues the connect deadline of the attempt just opened on `id`: 0, or ENOMEM. */
int deadlines_add(struct deadlines *d, uint32_t id, uint32_t timeout_ms);
/* Reports every pending attempt whose deadline passed (EV_TIMEOUT, code = the phase: 0 TCP connect,
 * 1 CONNACK, 2 TLS handshake; the socket closed), drops stale heads, and re-arms the timer. */
void deadlines_run(struct deadlines *d);
/* Entries queued (pending and stale), and the bytes the rings hold. */
uint32_t deadlines_queued(const struct deadlines *d);
uint64_t deadlines_bytes(const struct deadlines *d);
#endif
