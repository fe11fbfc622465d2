/*
 * An attempt's way to CONNACK on the wire (wire.h): the socket opened and bound, the connect, the
 * TLS handshake (tls.c) and CONNECT written — at once when connect() returns with the socket
 * already connected, else on readiness — then every readiness event of a connection handed to the
 * reader (wire_io.c).
 */
#define _GNU_SOURCE
#include "wire_int.h"

#include "tls.h" /* TLS hook */

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

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

int wire_watch(struct wire *w, uint32_t id, struct conn *c, int op, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)id | ((uint64_t)c->gen << 32)};
  return epoll_ctl(w->epfd, op, c->fd, &ev) == 0 ? 0 : errno;
}

/*
 * Whether the socket's connect has already finished: on loopback and other near targets it has by the
 * time a non-blocking connect() returns EINPROGRESS. poll() leaves a pending socket error to SO_ERROR
 * (a refused connect still takes the epoll path, and its errno); one syscall instead of an epoll round.
 */
static int connected_now(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  return poll(&p, 1, 0) == 1 && p.revents == POLLOUT;
}

int wire_open(struct wire *w, uint32_t id, const struct sockaddr *dst, socklen_t dlen, const struct sockaddr *src,
              socklen_t slen, const uint8_t *pkt, uint32_t pkt_len, uint8_t version, int tls_follows) {
  double open_us = wire_now_us(); /* before socket(): the owner stamps the open just before this call */
  int err = grow(w, id);
  if (err) return err;
  struct conn *c = &w->conns[id];
  if (c->state != ST_FREE) wire_drop_fd(w, c, 0); /* the engine never does this; never leak an fd if it did */
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
  uint32_t gen = c->gen + 1;
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->gen = gen;
  c->state = ST_CONNECTING;
  c->version = version;
  c->open_us = open_us;
  c->tcp_us = NAN;
  w->live++;
  /* Plain TCP already connected: CONNECT goes now, and the watch starts on the CONNACK (TLS: wire_use_tls).
   * A send that fails leaves CONNECT to the epoll path, which reports the error as it would have. */
  uint32_t sent = 0;
  if (!tls_follows && connected_now(fd)) {
    c->tcp_us = wire_now_us() - open_us;
    c->state = ST_HANDSHAKING;
    ssize_t n = send(fd, pkt, pkt_len, MSG_NOSIGNAL);
    if (n > 0) sent = (uint32_t)n;
  }
  if (sent < pkt_len) {
    if ((c->out = malloc(pkt_len - sent)) == NULL) {
      wire_drop_fd(w, c, 0);
      return ENOMEM;
    }
    memcpy(c->out, pkt + sent, pkt_len - sent);
    c->out_len = pkt_len - sent;
    w->out_bytes += c->out_len;
  }
  err = wire_watch(w, id, c, EPOLL_CTL_ADD, c->out == NULL ? EPOLLIN : EPOLLIN | EPOLLOUT);
  if (err) wire_drop_fd(w, c, 0);
  return err;
}

/* Writes what is left of CONNECT (TLS: or of a PINGREQ/DISCONNECT OpenSSL must retry); 0, or an errno. */
static int flush_out(struct wire *w, uint32_t id, struct conn *c) {
  while (c->out_off < c->out_len) {
    int code = 0;
    ssize_t n = c->ssl != NULL ? tls_send(c->ssl, c->out + c->out_off, c->out_len - c->out_off, &code)
                               : send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0 && c->ssl != NULL) /* TLS hook */
      return code == TLS_WANT_READ || code == TLS_WANT_WRITE ? wire_watch(w, id, c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT) : code;
    if (n < 0) return errno == EAGAIN ? 0 : errno;
    c->out_off += (uint32_t)n;
    w->out_bytes -= (uint64_t)n;
  }
  free(c->out);
  c->out = NULL;
  return wire_watch(w, id, c, EPOLL_CTL_MOD, EPOLLIN);
}

/* ---- TLS hooks: the OpenSSL side is tls.c's ---- */

static void tls_progress(struct wire *w, uint32_t id, struct conn *c);

int wire_use_tls(struct wire *w, uint32_t id, struct tls_cfg *cfg, int offer_session) {
  if (id >= w->cap || w->conns[id].state != ST_CONNECTING) return EINVAL;
  struct conn *c = &w->conns[id];
  int code = ENOMEM;
  if ((c->ssl = tls_conn_new(cfg, id, c->fd, offer_session, &code)) == NULL) {
    wire_drop_fd(w, c, 0);
    return code;
  }
  /* Already connected (wire_open): the ClientHello goes now; a failure is an outcome, as on readiness. */
  if (connected_now(c->fd)) {
    c->tcp_us = wire_now_us() - c->open_us;
    c->state = ST_TLS;
    tls_progress(w, id, c);
  }
  return 0;
}

/* One handshake step on readiness; once done, CONNECT through TLS (EV_TLS goes with the next event). */
static void tls_progress(struct wire *w, uint32_t id, struct conn *c) {
  int r = tls_handshake(c->ssl);
  if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
    r = wire_watch(w, id, c, EPOLL_CTL_MOD, r == TLS_WANT_WRITE ? EPOLLIN | EPOLLOUT : EPOLLIN);
    if (r) wire_finish(w, id, c, r);
    return;
  }
  if (r) return wire_finish(w, id, c, r);
  c->state = ST_HANDSHAKING;
  tls_set_done(c->ssl, wire_now_us() - c->open_us);
  r = flush_out(w, id, c);
  if (r) return wire_finish(w, id, c, r);
  if (tls_buffered(c->ssl)) wire_on_readable(w, id, c); /* read ahead with the last flight */
}

void wire_handle(struct wire *w, uint64_t data, uint32_t events) {
  uint32_t id = (uint32_t)data;
  if (id >= w->cap) return;
  struct conn *c = &w->conns[id];
  if (c->state == ST_FREE || c->state == ST_DARK || c->gen != (uint32_t)(data >> 32)) return;
  if (c->state == ST_CONNECTING) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0; /* EPOLLOUT alone is a connect that succeeded: SO_ERROR (a syscall) is read for a failure */
    socklen_t len = sizeof err;
    if (events & (EPOLLERR | EPOLLHUP)) getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0 && (events & EPOLLHUP)) err = CODE_CLOSED_DURING_CONNECT;
    if (err) return wire_finish(w, id, c, err);
    c->tcp_us = wire_now_us() - c->open_us;
    c->state = c->ssl != NULL ? ST_TLS : ST_HANDSHAKING; /* TLS hook */
  }
  if (c->state == ST_TLS) return tls_progress(w, id, c); /* TLS hook */
  if (c->out != NULL) {
    int err = flush_out(w, id, c);
    if (err) return wire_finish(w, id, c, err);
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) wire_on_readable(w, id, c);
  if (c->ssl != NULL && c->state == ST_HELD && c->out == NULL) tls_idle(c->ssl); /* TLS hook */
}
