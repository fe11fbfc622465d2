/*
 * See wire.h. Everything here runs on Node's main thread (binding.c polls the epoll fd from
 * libuv), so no locking: a connection's state changes only inside these calls.
 */
#define _GNU_SOURCE
#include "wire_int.h"

#include "msg.h" /* messaging (npub): hooks marked "msg:" */
#include "signal.h"
#include "tls.h" /* TLS hook */

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

double wire_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int wire_init(struct wire *w, uint32_t max_packet_bytes) {
  memset(w, 0, sizeof *w);
  w->max_packet_bytes = max_packet_bytes;
  w->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (w->epfd < 0) return errno;
  w->evcap = EVENT_CAP;
  w->evs = calloc(EVENT_CAP, sizeof *w->evs);
  w->refs = calloc(EVENT_CAP, sizeof *w->refs);
  w->ref_lens = calloc(EVENT_CAP, sizeof *w->ref_lens);
  return w->evs == NULL || w->refs == NULL || w->ref_lens == NULL ? ENOMEM : 0;
}

/* Frees everything a connection holds but its socket, which the caller closes or keeps; the slot is free. */
static void release(struct wire *w, struct conn *c) {
  if (c->ssl != NULL) tls_conn_free(c->ssl); /* TLS hook */
  c->ssl = NULL;
  c->fd = -1;
  c->state = ST_FREE;
  if (c->out != NULL) {
    w->out_bytes -= c->out_len - c->out_off;
    free(c->out);
    c->out = NULL;
  }
  if (c->sig != NULL) {
    sig_free(c->sig);
    free(c->sig);
    c->sig = NULL;
  }
  msg_free(w, c->msg); /* msg: */
  c->msg = NULL;
}

void wire_drop_fd(struct wire *w, struct conn *c, int rst) {
  int fd = c->fd;
  if (rst) {
    struct linger l = {1, 0}; /* close with RST, as the JS path's reset() does */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  release(w, c);
  close(fd); /* also leaves the epoll set */
  w->live--;
}

int wire_detach(struct wire *w, uint32_t id) {
  if (id >= w->cap || w->conns[id].state != ST_DARK) return -1;
  if (w->ndark == w->darkcap) {
    uint32_t cap = w->darkcap == 0 ? 64 : w->darkcap * 2;
    int32_t *n = realloc(w->dark, (size_t)cap * sizeof *n);
    if (n == NULL) return -1;
    w->dark = n;
    w->darkcap = cap;
  }
  struct conn *c = &w->conns[id];
  w->dark[w->ndark] = c->fd;
  release(w, c); /* not watched since wire_silence: only the open socket stays, for the peer to close */
  w->open_dark++;
  return (int)w->ndark++;
}

void wire_close_dark(struct wire *w, uint32_t k) {
  if (k >= w->ndark || w->dark[k] < 0) return;
  close(w->dark[k]);
  w->dark[k] = -1;
  w->live--;
  if (--w->open_dark == 0) w->ndark = 0; /* every handle of them is closed: the list starts over */
}

void wire_free(struct wire *w) {
  for (uint32_t i = 0; i < w->cap; i++)
    if (w->conns[i].state != ST_FREE) wire_drop_fd(w, &w->conns[i], 0);
  for (uint32_t k = 0; k < w->ndark; k++) wire_close_dark(w, k);
  free(w->dark);
  w->dark = NULL;
  w->ndark = w->darkcap = 0;
  free(w->conns);
  free(w->evs);
  for (uint32_t i = 0; i < w->nref; i++) free(w->refs[i]);
  free(w->refs);
  free(w->ref_lens);
  free(w->blob); /* msg: */
  w->blob = NULL;
  w->blob_len = w->blob_cap = 0;
  w->refs = NULL;
  w->ref_lens = NULL;
  w->nref = 0;
  if (w->epfd >= 0) close(w->epfd);
  w->epfd = -1;
  w->conns = NULL;
  w->evs = NULL;
  w->cap = 0;
}

uint64_t wire_bytes(const struct wire *w) {
  uint64_t refs = 0;
  for (uint32_t i = 0; i < w->nref; i++) refs += w->ref_lens[i];
  return (uint64_t)w->cap * sizeof(struct conn) + w->out_bytes +
         (uint64_t)w->evcap * sizeof(struct wire_event) +
         (uint64_t)EVENT_CAP * (sizeof *w->refs + sizeof *w->ref_lens) + refs +
         w->msg_bytes + w->blob_cap + (uint64_t)w->darkcap * sizeof *w->dark; /* msg: */
}

void wire_take_refs(struct wire *w, void (*take)(void *ctx, const uint8_t *s, uint32_t n), void *ctx) {
  for (uint32_t i = 0; i < w->nref; i++) {
    take(ctx, w->refs[i], w->ref_lens[i]);
    free(w->refs[i]);
    w->refs[i] = NULL;
  }
  w->nref = 0;
}

void wire_emit(struct wire *w, uint32_t id, int kind, double code, double t1, double t2) {
  if (w->nev >= w->evcap) {
    /* msg: a read full of small packets queues many events (≤ one per 4 bytes); binding.c delivers
     * once 1,024 are queued and wire_trim_events() gives the growth back after delivery. */
    struct wire_event *evs = w->evcap < (1u << 20) ? realloc(w->evs, (size_t)w->evcap * 2 * sizeof *evs) : NULL;
    if (evs == NULL) return;
    w->evs = evs;
    w->evcap *= 2;
  }
  struct wire_event *e = &w->evs[w->nev++];
  e->id = id;
  e->kind = kind;
  e->code = code;
  e->t1_us = t1;
  e->t2_us = t2;
}

/* Ends the connection and reports it: failed before CONNACK, lost when held, closed when ending. */
void wire_finish(struct wire *w, uint32_t id, struct conn *c, int code) {
  int st = c->state;
  double tcp = c->tcp_us;
  wire_report_tls(w, id, c); /* TLS hook: a done handshake before the failure (its SSL goes now) */
  wire_drop_fd(w, c, 0);
  if (st == ST_CONNECTING || st == ST_HANDSHAKING || st == ST_TLS) emit(w, id, EV_FAILED, code, tcp, NAN);
  else if (st == ST_HELD || st == ST_DARK) emit(w, id, EV_LOST, code, NAN, NAN);
  else emit(w, id, EV_CLOSED, code, NAN, NAN);
}

static struct conn *held(struct wire *w, uint32_t id) {
  return id < w->cap && w->conns[id].state == ST_HELD ? &w->conns[id] : NULL;
}

void wire_ping(struct wire *w, uint32_t id) {
  struct conn *c = held(w, id);
  if (c == NULL || c->ping) return;
  static const uint8_t PINGREQ[2] = {0xc0, 0x00};
  /* Behind whatever publishes are still unsent (msg:), through TLS when the connection has it: a
   * full send buffer delays the answer, and a missing answer is what keepalive is for. */
  wire_send(w, id, PINGREQ, 2, UINT32_MAX);
  c->ping = 1;
}

void wire_end(struct wire *w, uint32_t id) {
  struct conn *c = held(w, id);
  if (c == NULL) return;
  /* 0xE0 0x00: DISCONNECT in 3.1.1, reason 0 "normal" in 5. The server closes first, keeping
   * TIME_WAIT on its side; JavaScript forces the close after the grace period. */
  static const uint8_t DISCONNECT[2] = {0xe0, 0x00};
  wire_send(w, id, DISCONNECT, 2, UINT32_MAX); /* msg: in order behind unsent publishes; TLS when on */
  c->state = ST_CLOSING;
}

void wire_abort(struct wire *w, uint32_t id, int rst) {
  if (id < w->cap && w->conns[id].state != ST_FREE) wire_drop_fd(w, &w->conns[id], rst);
}

uint32_t wire_buffered(const struct wire *w, uint32_t id) {
  if (id >= w->cap || w->conns[id].state == ST_FREE) return 0;
  const struct conn *c = &w->conns[id];
  uint32_t sig = c->sig != NULL ? (uint32_t)sizeof *c->sig + c->sig->ref_cap : 0;
  return (c->out != NULL ? c->out_len - c->out_off : 0) + (c->stage == P_BODY ? c->nhead : 0) + sig +
         msg_partial_bytes(c->msg);
}

int wire_tcp_connected(const struct wire *w, uint32_t id) {
  if (id < w->cap && w->conns[id].state == ST_TLS) return 2; /* TLS hook */
  return id < w->cap && w->conns[id].state >= ST_HANDSHAKING && w->conns[id].state != ST_FREE;
}

void wire_silence(struct wire *w, uint32_t id) {
  struct conn *c = held(w, id);
  if (c == NULL) return;
  epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
  c->state = ST_DARK;
}
