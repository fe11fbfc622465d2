/*
 * See wire.h. Everything here runs on Node's main thread (binding.c polls the epoll fd from
 * libuv), so no locking: a connection's state changes only inside these calls.
 */
#define _GNU_SOURCE
#include "wire.h"

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

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

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
  double tcp_us;
  struct ssl_st *ssl; /* TLS hook (tls.c): the connection's TLS, NULL on plain TCP */
};

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

static void drop_fd(struct wire *w, struct conn *c, int rst) {
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
    if (w->conns[i].state != ST_FREE) drop_fd(w, &w->conns[i], 0);
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

static void emit(struct wire *w, uint32_t id, int kind, int code, double t1, double t2) {
  wire_emit(w, id, kind, code, t1, t2);
}

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

/* Ends the connection and reports it: failed before CONNACK, lost when held, closed when ending. */
static void finish(struct wire *w, uint32_t id, struct conn *c, int code) {
  int st = c->state;
  double tcp = c->tcp_us;
  drop_fd(w, c, 0);
  if (st == ST_CONNECTING || st == ST_HANDSHAKING || st == ST_TLS) emit(w, id, EV_FAILED, code, tcp, NAN);
  else if (st == ST_HELD || st == ST_DARK) emit(w, id, EV_LOST, code, NAN, NAN);
  else emit(w, id, EV_CLOSED, code, NAN, NAN);
}

static int grow(struct wire *w, uint32_t id) {
  if (id < w->cap) return 0;
  uint32_t cap = w->cap == 0 ? 1024 : w->cap;
  while (cap <= id) cap *= 2;
  struct conn *n = realloc(w->conns, (size_t)cap * sizeof *n);
  if (n == NULL) return ENOMEM;
  memset(n + w->cap, 0, (size_t)(cap - w->cap) * sizeof *n);
  for (uint32_t i = w->cap; i < cap; i++) n[i].fd = -1;
  w->conns = n;
  w->cap = cap;
  return 0;
}

static int watch(struct wire *w, uint32_t id, struct conn *c, int op, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)id | ((uint64_t)c->gen << 32)};
  return epoll_ctl(w->epfd, op, c->fd, &ev) == 0 ? 0 : errno;
}

int wire_open(struct wire *w, uint32_t id, const struct sockaddr *dst, socklen_t dlen, const struct sockaddr *src,
              socklen_t slen, const uint8_t *pkt, uint32_t pkt_len, uint8_t version) {
  int err = grow(w, id);
  if (err) return err;
  struct conn *c = &w->conns[id];
  if (c->state != ST_FREE) drop_fd(w, c, 0); /* the engine never does this; never leak an fd if it did */
  int fd = socket(dst->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (src != NULL) {
    /* Without this, bind() picks a port before the destination is known: ~28k sockets per source. */
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, src, slen) != 0) {
      err = errno;
      close(fd);
      return err;
    }
  }
  if (connect(fd, dst, dlen) != 0 && errno != EINPROGRESS) {
    err = errno;
    close(fd);
    return err;
  }
  uint8_t *out = malloc(pkt_len);
  if (out == NULL) {
    close(fd);
    return ENOMEM;
  }
  memcpy(out, pkt, pkt_len);
  uint32_t gen = c->gen + 1;
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->gen = gen;
  c->state = ST_CONNECTING;
  c->version = version;
  c->out = out;
  c->out_len = pkt_len;
  c->tcp_us = NAN;
  w->out_bytes += pkt_len;
  w->live++;
  err = watch(w, id, c, EPOLL_CTL_ADD, EPOLLIN | EPOLLOUT);
  if (err) drop_fd(w, c, 0);
  return err;
}

/* Writes what is left of CONNECT (TLS: or of a PINGREQ/DISCONNECT OpenSSL must retry); 0, or an errno. */
static int flush_out(struct wire *w, uint32_t id, struct conn *c) {
  while (c->out_off < c->out_len) {
    int code = 0;
    ssize_t n = c->ssl != NULL ? tls_send(c->ssl, c->out + c->out_off, c->out_len - c->out_off, &code)
                               : send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0 && c->ssl != NULL) /* TLS hook */
      return code == TLS_WANT_READ || code == TLS_WANT_WRITE ? watch(w, id, c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT) : code;
    if (n < 0) return errno == EAGAIN ? 0 : errno;
    c->out_off += (uint32_t)n;
    w->out_bytes -= (uint64_t)n;
  }
  free(c->out);
  c->out = NULL;
  return watch(w, id, c, EPOLL_CTL_MOD, EPOLLIN);
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
    if (type != 2 || c->rem < 2) return finish(w, id, c, CODE_UNEXPECTED_PACKET), 0;
    if (c->head[1] != 0) {
      if (ok) emit_signal(w, id, r);
      return finish(w, id, c, CODE_CONNACK + c->head[1]), 0;
    }
    if (c->version == 5 && !ok) return finish(w, id, c, CODE_MALFORMED_PACKET), 0;
    /* A signal with no property changes nothing (steering-state.ts): the storm's CONNACKs skip it. */
    if (ok && (r->has & HAS_RECV_MAX)) msg_connack(w, &c->msg, r->recv_max); /* msg: */
    if (ok && r->has != 0) emit_signal(w, id, r);
    c->state = ST_HELD;
    emit(w, id, EV_READY, c->head[0] & 1, c->tcp_us, wire_now_us());
    return 1;
  }
  if (c->state == ST_HELD && !flags_ok(c->ptype)) return finish(w, id, c, CODE_MALFORMED_PACKET), 0;
  if (c->state == ST_HELD && type == 14) {
    /* A server DISCONNECT: in MQTT 5 its reason code says why (0x89/0x9F = shedding). */
    if (ok) emit_signal(w, id, r);
    return finish(w, id, c, CODE_DISCONNECT + (c->rem > 0 ? c->head[0] : 0)), 0;
  }
  /* msg: packets only a client sends, or a second CONNACK, as the JavaScript path's messaging says */
  if (c->state == ST_HELD && (type == 1 || type == 2 || type == 8 || type == 10 || type == 12))
    return finish(w, id, c, CODE_UNEXPECTED_PACKET), 0;
  if (c->state == ST_HELD && type == 15 && c->version != 5) return finish(w, id, c, CODE_MALFORMED_PACKET), 0;
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
  if (code != 0) return finish(w, id, c, code), 0;
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
        if (c->nlen == 4) return finish(w, id, c, CODE_MALFORMED_LENGTH), 0;
        continue;
      }
      if ((uint64_t)c->rem + 1 + c->nlen > w->max_packet_bytes) return finish(w, id, c, CODE_PACKET_TOO_LARGE), 0;
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
        if (err) return finish(w, id, c, err), 0;
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
        if (c->sig == NULL) return finish(w, id, c, ENOMEM), 0;
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

static void on_readable(struct wire *w, uint32_t id, struct conn *c) {
  uint8_t buf[16384];
  for (int r = 0; r < READS_PER_EVENT; r++) {
    int code = 0;
    ssize_t n = c->ssl != NULL ? tls_recv(c->ssl, buf, sizeof buf, &code) : recv(c->fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (c->ssl == NULL) code = errno == EAGAIN || errno == EINTR ? 0 : errno;
      /* TLS hook: a read that wants a write (a key update's answer) is retried on the next readable event. */
      else if (code == TLS_WANT_READ || code == TLS_WANT_WRITE) code = 0;
      if (code) finish(w, id, c, code);
      return;
    }
    if (n == 0) {
      int code = c->state == ST_HANDSHAKING ? CODE_CLOSED_BEFORE_CONNACK : c->state == ST_HELD ? CODE_PEER_CLOSED : 0;
      finish(w, id, c, code);
      return;
    }
    if (c->state == ST_CLOSING) continue; /* after our DISCONNECT only the server's close matters */
    if (c->ping) {
      /* Any byte received answers the outstanding PINGREQ: the peer is alive (docs/metrics.md). */
      c->ping = 0;
      emit(w, id, EV_PONG, 0, NAN, NAN);
    }
    if (!feed(w, id, c, buf, (size_t)n)) return;
    if ((size_t)n < sizeof buf) return;
  }
}

/* ---- TLS hooks: the OpenSSL side is tls.c's ---- */

int wire_use_tls(struct wire *w, uint32_t id, struct tls_cfg *cfg, int offer_session) {
  if (id >= w->cap || w->conns[id].state != ST_CONNECTING) return EINVAL;
  struct conn *c = &w->conns[id];
  int code = ENOMEM;
  c->ssl = tls_conn_new(cfg, id, c->fd, offer_session, &code);
  if (c->ssl == NULL) drop_fd(w, c, 0);
  return c->ssl == NULL ? code : 0;
}

/* One handshake step on readiness; once done, EV_TLS and CONNECT through TLS. */
static void tls_progress(struct wire *w, uint32_t id, struct conn *c) {
  int info = 0;
  int r = tls_handshake(c->ssl, &info);
  if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
    r = watch(w, id, c, EPOLL_CTL_MOD, r == TLS_WANT_WRITE ? EPOLLIN | EPOLLOUT : EPOLLIN);
    if (r) finish(w, id, c, r);
    return;
  }
  if (r) return finish(w, id, c, r);
  c->state = ST_HANDSHAKING;
  emit(w, id, EV_TLS, info, wire_now_us(), NAN);
  r = flush_out(w, id, c);
  if (r) finish(w, id, c, r);
}

void wire_handle(struct wire *w, uint64_t data, uint32_t events) {
  uint32_t id = (uint32_t)data;
  if (id >= w->cap) return;
  struct conn *c = &w->conns[id];
  if (c->state == ST_FREE || c->state == ST_DARK || c->gen != (uint32_t)(data >> 32)) return;
  if (c->state == ST_CONNECTING) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0 && (events & EPOLLHUP)) err = CODE_CLOSED_DURING_CONNECT;
    if (err) return finish(w, id, c, err);
    c->tcp_us = wire_now_us();
    c->state = c->ssl != NULL ? ST_TLS : ST_HANDSHAKING; /* TLS hook */
  }
  if (c->state == ST_TLS) return tls_progress(w, id, c); /* TLS hook */
  if (c->out != NULL) {
    int err = flush_out(w, id, c);
    if (err) return finish(w, id, c, err);
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(w, id, c);
  if (c->ssl != NULL && c->state == ST_HELD && c->out == NULL) tls_idle(c->ssl); /* TLS hook */
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
  if (id < w->cap && w->conns[id].state != ST_FREE) drop_fd(w, &w->conns[id], rst);
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
  if (pending == 0) watch(w, id, c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
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
