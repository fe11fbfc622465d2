/*
 * What wire.c and wire_io.c share of a connection: its record and states, private to the core
 * (wire.h is the interface binding.c and msg.c use).
 */
#ifndef HERD_WIRE_INT_H
#define HERD_WIRE_INT_H
#include <stddef.h>

#include "wire.h"

/* ST_TLS (TLS hook): TCP connected, TLS handshake under way; CONNECT waits for it. */
enum { ST_FREE = 0, ST_CONNECTING, ST_HANDSHAKING, ST_HELD, ST_CLOSING, ST_DARK, ST_TLS };
enum { P_TYPE = 0, P_LEN, P_BODY };
#define HEAD_BYTES 6
/* Bounded work per readiness event, so one chatty peer cannot starve the others. */
#define READS_PER_EVENT 4
/* ≤ 4 events per epoll event (a signal and its outcome, twice: CONNACK then DISCONNECT), 256 per round. */
#define EVENT_CAP 2048

struct conn {
  int32_t fd;
  uint32_t gen; /* bumped per attempt: an epoll event of an earlier attempt on this slot is ignored */
  uint8_t state, version, stage, nlen;
  uint8_t ptype, ping, nhead, pad;
  uint8_t head[HEAD_BYTES]; /* first body bytes of the packet being read; the rest is skipped */
  uint32_t rem, pos;        /* remaining length and body bytes consumed */
  uint32_t out_len, out_off;
  uint8_t *out; /* the unsent part of CONNECT; freed once written */
  struct sig_reader *sig; /* an MQTT 5 CONNACK/DISCONNECT being read across reads; else NULL */
  struct msg *msg;        /* msg: publish/subscribe state, once the connection messages; else NULL */
  double open_us; /* when wire_open began (wire_now_us); the phase stamps of the events are relative to it */
  double tcp_us;  /* TCP connected, µs since open_us (NaN before) */
  struct ssl_st *ssl; /* TLS hook (tls.c): the connection's TLS, NULL on plain TCP */
};

/* TLS hook (wire_io.c): queues EV_TLS for a done handshake not yet reported (tls_take_done). */
void wire_report_tls(struct wire *w, uint32_t id, struct conn *c);
/* Queues an outcome (wire_emit with an integer code), behind a TLS handshake it follows. */
static inline void emit(struct wire *w, uint32_t id, int kind, int code, double t1, double t2) {
  if (w->conns[id].ssl != NULL) wire_report_tls(w, id, &w->conns[id]);
  wire_emit(w, id, kind, code, t1, t2);
}
/* Closes the connection's socket (with RST when `rst`) and frees what it holds; nothing is reported. */
void wire_drop_fd(struct wire *w, struct conn *c, int rst);
/* Ends the connection and reports it: failed before CONNACK, lost when held, closed when ending. */
void wire_finish(struct wire *w, uint32_t id, struct conn *c, int code);
/* (Re)arms the connection's epoll watch; 0, or an errno. */
int wire_watch(struct wire *w, uint32_t id, struct conn *c, int op, uint32_t events);
/* Reads what the socket has (bounded per event) through the frame reader (wire_io.c). */
void wire_on_readable(struct wire *w, uint32_t id, struct conn *c);
#endif
