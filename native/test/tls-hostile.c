/*
 * The native core's TLS client (native/src/tls.c driven by wire.c) against hostile servers on
 * loopback, built with AddressSanitizer/LeakSanitizer and UBSan by test/unit/native-tls-hostile.test.ts.
 * The server runs on a thread of this process: garbage instead of a ServerHello, a close or a reset
 * mid-handshake, a stall (the caller's connect timeout then aborts, as device.ts does), a fatal
 * alert, random bytes after the ClientHello (ITERATIONS times), and a real TLS server (the fixture
 * certificate) for a full then a resumed handshake, CONNACK (the second time a byte per TLS record,
 * all four in one segment) and a clean end. Each attempt must end
 * with the expected outcome, every connection must be closed after, and nothing may leak.
 *
 * It links the system's libssl (a test harness outside Node); the addon itself uses Node's.
 * Usage: tls-hostile FIXTURES_DIR ITERATIONS SEED → prints "ok N"; exits 1 naming the first failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls.h"
#include "wire.h"

enum { M_GARBAGE, M_CLOSE, M_RESET, M_STALL, M_ALERT, M_RANDOM, M_TLS };
static int listen_fd;
static struct sockaddr_in addr;
static uint64_t rng = 88172645463325252ULL;
static const char *fixtures;

static uint32_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)rng;
}

static void fail(const char *what, double got) {
  printf("FAIL %s (got %.0f)\n", what, got);
  exit(1);
}

struct server_arg {
  int mode;
  SSL_CTX *ctx;
};

/* One connection: accept, read the ClientHello, misbehave as told. */
static void *serve(void *p) {
  struct server_arg *a = p;
  int fd = accept(listen_fd, NULL, NULL);
  if (fd < 0) return NULL;
  uint8_t buf[4096];
  if (a->mode == M_TLS) {
    SSL *ssl = SSL_new(a->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      int n = SSL_read(ssl, buf, sizeof buf); /* CONNECT */
      static const uint8_t CONNACK[4] = {0x20, 0x02, 0x00, 0x00};
      /* The resumed round sends CONNACK a byte per TLS record, the four in one segment: the client
       * reads them ahead in one read and must take every record without a new readiness event. */
      int split = SSL_session_reused(ssl), on = 1, off = 0;
      if (split) setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
      for (int i = 0; n > 0 && buf[0] == 0x10 && i < (split ? 4 : 1); i++)
        SSL_write(ssl, CONNACK + i, split ? 1 : 4);
      if (split) setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
      while ((n = SSL_read(ssl, buf, sizeof buf)) > 0)
        if (buf[0] == 0xe0) break; /* DISCONNECT: the server closes first */
    }
    SSL_free(ssl);
    close(fd);
    return NULL;
  }
  (void)!recv(fd, buf, sizeof buf, 0);
  if (a->mode == M_GARBAGE) {
    static const char PAGE[] = "HTTP/1.1 400 Bad Request\r\n\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    (void)!send(fd, PAGE, sizeof PAGE - 1, MSG_NOSIGNAL);
  } else if (a->mode == M_RESET) {
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  } else if (a->mode == M_STALL) {
    while (recv(fd, buf, sizeof buf, 0) > 0) {} /* until the client gives up */
  } else if (a->mode == M_ALERT) {
    static const uint8_t ALERT[7] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
    (void)!send(fd, ALERT, sizeof ALERT, MSG_NOSIGNAL);
  } else if (a->mode == M_RANDOM) {
    uint32_t n = rnd() % sizeof buf;
    for (uint32_t i = 0; i < n; i++) buf[i] = (uint8_t)rnd();
    if (n >= 5 && (rnd() & 1)) memcpy(buf, "\x16\x03\x03", 3); /* a handshake record header, now and then */
    (void)!send(fd, buf, n, MSG_NOSIGNAL);
  }
  close(fd);
  return NULL;
}

/* Runs epoll rounds until `id` has an event of `kind` (its code returned) or `ms` pass (-1). */
static double await_event(struct wire *w, uint32_t id, int kind, int ms, double *t1) {
  for (int waited = 0;; waited += 10) {
    /* Events after the one awaited stay queued for the next call: EV_TLS comes in CONNACK's batch. */
    for (uint32_t i = 0; i < w->nev; i++) {
      struct wire_event *e = &w->evs[i];
      if ((uint32_t)e->id == id && (int)e->kind == kind) {
        double code = e->code;
        if (t1 != NULL) *t1 = e->t1_us;
        memmove(&w->evs[0], &w->evs[i + 1], (size_t)(w->nev - i - 1) * sizeof w->evs[0]);
        w->nev -= i + 1;
        return code;
      }
    }
    w->nev = 0;
    if (waited >= ms) return -1;
    struct epoll_event evs[16];
    int n = epoll_wait(w->epfd, evs, 16, 10);
    for (int i = 0; i < n; i++) wire_handle(w, evs[i].data.u64, evs[i].events);
  }
}

/* One attempt of slot `id` against a server in `mode`; returns the failure code (or -1: none in `ms`). */
static double attempt(struct wire *w, struct tls_cfg *cfg, uint32_t id, int mode, SSL_CTX *sctx, int ms) {
  static const uint8_t CONNECT[14] = {0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00};
  struct server_arg a = {mode, sctx};
  pthread_t t;
  pthread_create(&t, NULL, serve, &a);
  if (wire_open(w, id, (struct sockaddr *)&addr, sizeof addr, NULL, 0, CONNECT, sizeof CONNECT, 4, 1) != 0)
    fail("wire_open", errno);
  int err = wire_use_tls(w, id, cfg, 1);
  if (err != 0) fail("wire_use_tls", err);
  double code = await_event(w, id, EV_FAILED, ms, NULL);
  if (code < 0) wire_abort(w, id, 0); /* the connect timeout, as device.ts handles it */
  pthread_join(t, NULL);
  return code;
}

static char *slurp(const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", fixtures, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) fail(path, errno);
  char *b = malloc(1 << 16);
  *len = fread(b, 1, 1 << 16, f);
  fclose(f);
  return b;
}

static void expect_name(double code, const char *want) {
  char name[160];
  tls_code_name(code, name, sizeof name);
  if (strcmp(name, want) != 0) {
    printf("FAIL expected %s, got %s (%.0f)\n", want, name, code);
    exit(1);
  }
}

int main(int argc, char **argv) {
  fixtures = argc > 1 ? argv[1] : "fixtures/tls";
  long iterations = argc > 2 ? atol(argv[2]) : 200;
  if (argc > 3) rng = strtoull(argv[3], NULL, 10) | 1;
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof addr;
  if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listen_fd, 16) != 0) fail("listen", errno);
  getsockname(listen_fd, (struct sockaddr *)&addr, &alen);

  size_t ca_len;
  char *ca = slurp("ca.crt", &ca_len);
  struct tls_cfg_opts o = {.ca = ca, .ca_len = ca_len, .verify = 1, .min_version = TLS1_2_VERSION,
                           .max_version = TLS1_3_VERSION, .check_name = "127.0.0.1", .max_sessions = 4};
  char err[256];
  struct tls_cfg *cfg = tls_cfg_new(&o, err, sizeof err);
  if (cfg == NULL) fail(err, 0);
  struct wire w;
  if (wire_init(&w, 4096) != 0) fail("wire_init", errno);

  expect_name(attempt(&w, cfg, 0, M_GARBAGE, NULL, 2000), "ERR_SSL_WRONG_VERSION_NUMBER");
  double c = attempt(&w, cfg, 1, M_CLOSE, NULL, 2000);
  if (c != CODE_CLOSED_DURING_TLS) fail("a close mid-handshake", c);
  c = attempt(&w, cfg, 2, M_RESET, NULL, 2000);
  if (c != ECONNRESET) fail("a reset mid-handshake", c);
  c = attempt(&w, cfg, 3, M_STALL, NULL, 300);
  if (c != -1) fail("a stall", c);
  expect_name(attempt(&w, cfg, 4, M_ALERT, NULL, 2000), "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE");
  for (long i = 0; i < iterations; i++) {
    c = attempt(&w, cfg, 5 + (uint32_t)(i % 64), M_RANDOM, NULL, 2000);
    if (c <= 0) fail("random bytes after the ClientHello: no failure", c);
  }
  if (w.live != 0) fail("connections left open after the hostile servers", w.live);

  /* A real server: a full handshake, then a resumed one (the slot's session), CONNACK, a clean end. */
  SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
  char path[4096];
  snprintf(path, sizeof path, "%s/server.crt", fixtures);
  SSL_CTX_use_certificate_chain_file(sctx, path);
  snprintf(path, sizeof path, "%s/server.key", fixtures);
  SSL_CTX_use_PrivateKey_file(sctx, path, SSL_FILETYPE_PEM);
  for (int round = 0; round < 2; round++) {
    static const uint8_t CONNECT[14] = {0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00};
    struct server_arg a = {M_TLS, sctx};
    pthread_t t;
    pthread_create(&t, NULL, serve, &a);
    if (wire_open(&w, 100, (struct sockaddr *)&addr, sizeof addr, NULL, 0, CONNECT, sizeof CONNECT, 4, 1) != 0 ||
        wire_use_tls(&w, 100, cfg, 1) != 0)
      fail("open", errno);
    c = await_event(&w, 100, EV_TLS, 2000, NULL);
    if (c < 0 || ((int)c & TLS_RESUMED) != (round == 1 ? TLS_RESUMED : 0)) fail("the handshake (full, then resumed)", c);
    if (await_event(&w, 100, EV_READY, 2000, NULL) < 0) fail("CONNACK over TLS", -1);
    wire_end(&w, 100);
    if (await_event(&w, 100, EV_CLOSED, 2000, NULL) < 0) fail("the server's close after DISCONNECT", -1);
    pthread_join(t, NULL);
  }
  if (w.live != 0) fail("connections left open", w.live);
  wire_free(&w);
  tls_cfg_free(cfg);
  SSL_CTX_free(sctx);
  free(ca);
  close(listen_fd);
  printf("ok %ld\n", iterations + 7);
  return 0;
}
