/*
 * A connection's bytes once it is open (see wire.h): the streaming MQTT frame reader, which keeps at
 * most HEAD_BYTES of a packet (an MQTT 5 CONNACK/DISCONNECT streams through signal.c, a packet
 * messaging reads whole goes to msg.c), and the ordered send path messaging, PINGREQ and
 * DISCONNECT write through. Same thread and rules as wire.c.
 */
#define _GNU_SOURCE
#include "wire_int.h"

#include "msg.h"
#include "signal.h"
#include "tls.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* Queues a signal the reader read whole (SIG_OK); its Server Reference moves to the batch's list. */
static void emit_signal(struct wire *w, uint32_t id, struct sig_reader *r) {
  double code, t1, t2;
  if (w->nev >= w->evcap) return;
  sig_event(r, &code, &t1, &t2);
  if (r->has & HAS_REFERENCE) {
    if (w->nref >= EVENT_CAP) return; /* ≤ 2 per handshake epoll event, 256 per round */
    w->refs[w->nref] = r->ref; /* NULL for an empty reference: length 0 */
    w->ref_lens[w->nref++] = r->ref_len;
    r->ref = NULL;
  }
  emit(w, id, EV_SIGNAL, 0, t1, t2);
  w->evs[w->nev - 1].code = code;
}

/* Fixed-header flags the spec reserves (MQTT 3.1.1 §2.2.2): a peer that breaks them is malformed,
 * as the JavaScript path's decoder says too. */
static int flags_ok(uint8_t first) {
  int type = first >> 4, flags = first & 0x0f;
  if (type == 0) return 0;
  if (type == 3) return (flags & 0x06) != 0x06; /* PUBLISH: QoS 3 is invalid */
  if (type == 6 || type == 8 || type == 10) return flags == 0x02;
  return flags == 0;
}

/* Whether the packet starting now is one whose MQTT 5 signal the engine reads (CONNACK, DISCONNECT). */
static int wants_signal(const struct conn *c) {
  if (c->version != 5) return 0;
  return (c->state == ST_HANDSHAKING && c->ptype >> 4 == 2) || (c->state == ST_HELD && c->ptype == 0xe0);
}

/*
 * A whole packet was read; returns 0 when the connection ended. `r`: its signal, read whole, for an
 * MQTT 5 CONNACK or DISCONNECT (else NULL). A malformed one is no signal; an accepting CONNACK that
 * is malformed fails the attempt, as on the JavaScript path (src/protocols/mqtt/connection.ts).
 */
static int on_packet(struct wire *w, uint32_t id, struct conn *c, struct sig_reader *r) {
  int type = c->ptype >> 4;
  int ok = r != NULL && r->result == SIG_OK;
  c->stage = P_TYPE;
  if (c->state == ST_HANDSHAKING) {
    if (type != 2 || c->rem < 2) return wire_finish(w, id, c, CODE_UNEXPECTED_PACKET), 0;
    if (c->head[1] != 0) {
      if (ok) emit_signal(w, id, r);
      return wire_finish(w, id, c, CODE_CONNACK + c->head[1]), 0;
    }
    if (c->version == 5 && !ok) return wire_finish(w, id, c, CODE_MALFORMED_PACKET), 0;
    /* A signal with no property changes nothing (steering-state.ts): the storm's CONNACKs skip it. */
    if (ok && (r->has & HAS_RECV_MAX)) msg_connack(w, &c->msg, r->recv_max); /* msg: */
    if (ok && r->has != 0) emit_signal(w, id, r);
    c->state = ST_HELD;
    emit(w, id, EV_READY, c->head[0] & 1, c->tcp_us, wire_now_us() - c->open_us);
    return 1;
  }
  if (c->state == ST_HELD && !flags_ok(c->ptype)) return wire_finish(w, id, c, CODE_MALFORMED_PACKET), 0;
  if (c->state == ST_HELD && type == 14) {
    /* A server DISCONNECT: in MQTT 5 its reason code says why (0x89/0x9F = shedding). */
    if (ok) emit_signal(w, id, r);
    return wire_finish(w, id, c, CODE_DISCONNECT + (c->rem > 0 ? c->head[0] : 0)), 0;
  }
  /* msg: packets only a client sends, or a second CONNACK, as the JavaScript path's messaging says */
  if (c->state == ST_HELD && (type == 1 || type == 2 || type == 8 || type == 10 || type == 12))
    return wire_finish(w, id, c, CODE_UNEXPECTED_PACKET), 0;
  if (c->state == ST_HELD && type == 15 && c->version != 5) return wire_finish(w, id, c, CODE_MALFORMED_PACKET), 0;
  return 1; /* PINGRESP, or an MQTT 5 AUTH (herd's devices start no enhanced authentication) */
}

/* The body (or its last part) has been fed to c->sig: the packet with its signal, reader freed. */
static int on_signal_packet(struct wire *w, uint32_t id, struct conn *c) {
  struct sig_reader *r = c->sig;
  c->sig = NULL;
  int alive = on_packet(w, id, c, r);
  sig_free(r);
  free(r);
  return alive;
}

/* msg: whether the packet being read is one messaging reads whole (PUBLISH … UNSUBACK on a held session). */
static int msg_here(const struct conn *c) {
  return c->state == ST_HELD && msg_wants(c->ptype);
}

/* msg: such a packet, read whole; returns 0 when the connection ended. */
static int on_msg_packet(struct wire *w, uint32_t id, struct conn *c, const uint8_t *body, uint32_t len) {
  c->stage = P_TYPE;
  int code = flags_ok(c->ptype) ? msg_packet(w, id, &c->msg, c->version, c->ptype, body, len) : CODE_MALFORMED_PACKET;
  if (code != 0) return wire_finish(w, id, c, code), 0;
  return 1;
}

/* Streams bytes through the MQTT frame reader; returns 0 when the connection ended. */
static int feed(struct wire *w, uint32_t id, struct conn *c, const uint8_t *b, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (c->stage == P_TYPE) {
      c->ptype = b[i++];
      c->stage = P_LEN;
      c->rem = 0;
      c->nlen = 0;
    } else if (c->stage == P_LEN) {
      uint8_t x = b[i++];
      c->rem |= (uint32_t)(x & 0x7f) << (7 * c->nlen++);
      if (x & 0x80) {
        if (c->nlen == 4) return wire_finish(w, id, c, CODE_MALFORMED_LENGTH), 0;
        continue;
      }
      if ((uint64_t)c->rem + 1 + c->nlen > w->max_packet_bytes) return wire_finish(w, id, c, CODE_PACKET_TOO_LARGE), 0;
      c->pos = 0;
      c->nhead = 0;
      c->stage = P_BODY;
      if (c->rem == 0 && msg_here(c)) {
        if (!on_msg_packet(w, id, c, b + i, 0)) return 0;
      } else if (c->rem == 0) {
        struct sig_reader r;
        int want = wants_signal(c);
        if (want) sig_begin(&r, (uint8_t)(c->ptype >> 4), 0);
        if (!on_packet(w, id, c, want ? &r : NULL)) return 0;
      }
    } else {
      size_t take = n - i < c->rem - c->pos ? n - i : c->rem - c->pos;
      if (msg_here(c)) { /* msg: the body whole, from this read or gathered (≤ maxPacketBytes) */
        const uint8_t *body = b + i;
        int err = 0;
        if (!(c->pos == 0 && take == c->rem)) body = msg_gather(w, &c->msg, c->rem, b + i, (uint32_t)take, &err);
        if (err) return wire_finish(w, id, c, err), 0;
        c->pos += (uint32_t)take;
        i += take;
        if (body != NULL && !on_msg_packet(w, id, c, body, c->rem)) return 0;
        continue;
      }
      while (c->nhead < HEAD_BYTES && c->nhead < c->pos + take) {
        c->head[c->nhead] = b[i + c->nhead - c->pos];
        c->nhead++;
      }
      if (c->pos == 0 && take == c->rem && wants_signal(c)) {
        /* The whole body is in this read (the usual case): read its signal on the stack. */
        struct sig_reader r;
        sig_begin(&r, (uint8_t)(c->ptype >> 4), c->rem);
        sig_feed(&r, b + i, (uint32_t)take);
        c->pos += (uint32_t)take;
        i += take;
        int alive = on_packet(w, id, c, &r);
        sig_free(&r);
        if (!alive) return 0;
        continue;
      }
      if (c->pos == 0 && wants_signal(c)) {
        c->sig = malloc(sizeof *c->sig);
        if (c->sig == NULL) return wire_finish(w, id, c, ENOMEM), 0;
        sig_begin(c->sig, (uint8_t)(c->ptype >> 4), c->rem);
      }
      if (c->sig != NULL) sig_feed(c->sig, b + i, (uint32_t)take);
      c->pos += (uint32_t)take;
      i += take;
      if (c->pos == c->rem && !(c->sig != NULL ? on_signal_packet(w, id, c) : on_packet(w, id, c, NULL))) return 0;
    }
  }
  return 1;
}

void wire_report_tls(struct wire *w, uint32_t id, struct conn *c) {
  int info;
  double at;
  if (c->ssl != NULL && tls_take_done(c->ssl, &info, &at)) wire_emit(w, id, EV_TLS, info, at, NAN);
}

void wire_flush_tls(struct wire *w, uint32_t id) {
  if (id < w->cap) wire_report_tls(w, id, &w->conns[id]);
}

int wire_take_tls(struct wire *w, uint32_t id) {
  int info;
  double at;
  if (id >= w->cap || w->conns[id].ssl == NULL || !tls_take_done(w->conns[id].ssl, &info, &at)) return -1;
  return info;
}

/* TLS hook: records OpenSSL read ahead get no readiness event of their own, so they are read now,
 * up to this many calls per event (more than its read-ahead buffer holds of the smallest records). */
#define TLS_DRAIN_CAP 1024

void wire_on_readable(struct wire *w, uint32_t id, struct conn *c) {
  uint8_t buf[16384];
  for (int r = 0; r < READS_PER_EVENT || (r < TLS_DRAIN_CAP && c->ssl != NULL && tls_buffered(c->ssl)); r++) {
    int code = 0;
    ssize_t n = c->ssl != NULL ? tls_recv(c->ssl, buf, sizeof buf, &code) : recv(c->fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (c->ssl == NULL) code = errno == EAGAIN || errno == EINTR ? 0 : errno;
      /* TLS hook: a read that wants a write (a key update's answer) is retried on the next readable event. */
      else if (code == TLS_WANT_READ || code == TLS_WANT_WRITE) code = 0;
      if (code) wire_finish(w, id, c, code);
      return;
    }
    if (n == 0) {
      int code = c->state == ST_HANDSHAKING ? CODE_CLOSED_BEFORE_CONNACK : c->state == ST_HELD ? CODE_PEER_CLOSED : 0;
      wire_finish(w, id, c, code);
      return;
    }
    if (c->state == ST_CLOSING) continue; /* after our DISCONNECT only the server's close matters */
    if (c->ping) {
      /* Any byte received answers the outstanding PINGREQ: the peer is alive (docs/metrics.md). */
      c->ping = 0;
      emit(w, id, EV_PONG, 0, NAN, NAN);
    }
    if (!feed(w, id, c, buf, (size_t)n)) return;
    if ((size_t)n < sizeof buf && (c->ssl == NULL || !tls_buffered(c->ssl))) return; /* TLS hook */
  }
}

/* ---- msg: what messaging (msg.c) uses of a connection ---- */

int wire_send(struct wire *w, uint32_t id, const uint8_t *b, uint32_t n, uint32_t cap) {
  if (id >= w->cap) return -1;
  struct conn *c = &w->conns[id];
  if (c->state == ST_DARK) return 0; /* the path is dark: bytes vanish, as on the JavaScript path */
  if (c->state != ST_HELD) return -1;
  uint32_t pending = c->out != NULL ? c->out_len - c->out_off : 0;
  uint32_t sent = 0;
  if ((uint64_t)pending + n > cap) return -1; /* as the JavaScript path's send() refuses */
  if (c->out == NULL) {
    int code = 0;
    ssize_t k = c->ssl != NULL ? tls_send(c->ssl, b, n, &code) : send(c->fd, b, n, MSG_NOSIGNAL);
    int again = c->ssl != NULL ? code == TLS_WANT_READ || code == TLS_WANT_WRITE
                               : errno == EAGAIN || errno == EWOULDBLOCK;
    /* A failed socket is reported by the read side (EPOLLERR/EPOLLHUP): here the bytes are gone.
     * TLS: a write OpenSSL must retry is retried whole from c->out (flush_out). */
    if (k < 0 && !again) return 0;
    sent = k < 0 ? 0 : (uint32_t)k;
    if (sent == n) return 0;
  }
  uint8_t *p = malloc((size_t)pending + n - sent);
  if (p == NULL) return -1;
  if (pending > 0) memcpy(p, c->out + c->out_off, pending);
  memcpy(p + pending, b + sent, n - sent);
  free(c->out);
  c->out = p;
  c->out_off = 0;
  c->out_len = pending + n - sent;
  w->out_bytes += n - sent;
  if (pending == 0) wire_watch(w, id, c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
  return 0;
}

struct msg **wire_msg(struct wire *w, uint32_t id, uint8_t *version) {
  /* A dark session still takes publishes, whose bytes vanish (wire_send), as on the JavaScript path. */
  struct conn *c = id < w->cap ? &w->conns[id] : NULL;
  if (c == NULL || (c->state != ST_HELD && c->state != ST_DARK)) return NULL;
  *version = c->version;
  return &c->msg;
}

void wire_trim_events(struct wire *w) {
  if (w->evcap <= EVENT_CAP || w->nev > 0) return;
  struct wire_event *evs = realloc(w->evs, EVENT_CAP * sizeof *evs);
  if (evs == NULL) return;
  w->evs = evs;
  w->evcap = EVENT_CAP;
}
