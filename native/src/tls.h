/*
 * TLS for the native storm core, on the OpenSSL that Node itself links (its headers ship with
 * Node, its symbols are the node binary's: the addon never links a libssl of its own). A
 * `tls_cfg` is one fleet setting — trust store, client certificate pairs, versions, ciphers, ALPN,
 * SNI and the name the certificate must carry — built once per cohort target; its SSL_CTX (one per
 * client certificate pair, all sharing one trust store) serves every connection. It also keeps
 * each device slot's last TLS session, capped at `max_sessions` (oldest evicted), for resumption.
 *
 * The handshake runs non-blocking on the connection's own socket: wire.c calls tls_handshake() on
 * every readiness event and watches for what it says it wants. Failures come back as the core's
 * outcome codes (below); src/protocols/native/codes.ts turns them into the JavaScript path's codes.
 */
#ifndef HERD_TLS_H
#define HERD_TLS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ssl_st;
struct tls_cfg;

/* tls_handshake/tls_send/tls_recv: wait for the socket to be readable / writable. */
enum { TLS_WANT_READ = -1, TLS_WANT_WRITE = -2 };
/* tls_handshake's `info` bits, as the EV_TLS event's code. */
enum { TLS_RESUMED = 1, TLS_KEY_EXCHANGE = 2 };

/*
 * Outcome codes beyond wire.h's: the peer closed during the handshake (the JavaScript path's
 * ECONNRESET "disconnected before secure TLS connection was established"), the certificate does not
 * carry the name, a certificate verification result (X509_V_ERR_*) as TLS_VERIFY_BASE + result,
 * and any OpenSSL error as its packed code (≥ 2^23: the library is never 0).
 */
enum { CODE_CLOSED_DURING_TLS = 3008, CODE_TLS_ALTNAME = 3009, CODE_TLS_VERIFY_BASE = 4000 };

struct tls_cfg_opts {
  const char *ca; /* PEM bundle of the CAs to trust; NULL: none */
  size_t ca_len;
  int verify;      /* reject a certificate that does not verify or does not carry check_name */
  int min_version; /* TLS1_2_VERSION …, 0: OpenSSL's bound */
  int max_version;
  const char *ciphers; /* OpenSSL cipher string; TLS 1.3 suites (TLS_*) apart from the rest */
  const uint8_t *alpn; /* ALPN protocol list in wire format; NULL: none */
  size_t alpn_len;
  const char *servername; /* SNI; NULL: none */
  const char *check_name; /* the name (or IP literal) the certificate must carry */
  uint32_t npairs;        /* client certificate pairs: slot n presents pair n mod npairs */
  const char *const *certs; /* PEM: leaf first, then its chain */
  const size_t *cert_lens;
  const char *const *keys;
  const size_t *key_lens;
  uint32_t max_sessions; /* sessions kept for resumption; 0: none kept */
  int psk_without_kx;    /* TLS 1.3: also offer PSK resumption without (EC)DHE */
};

/* A new setting, or NULL with `err` naming what OpenSSL refused. */
struct tls_cfg *tls_cfg_new(const struct tls_cfg_opts *o, char *err, size_t errlen);
/* Frees the setting and its sessions; connections made from it must be freed before. */
void tls_cfg_free(struct tls_cfg *cfg);
/* Whether slot `id` has a session to offer. */
int tls_has_session(const struct tls_cfg *cfg, uint32_t id);
/* Bytes the setting holds per slot for sessions (the session objects themselves are OpenSSL's). */
uint64_t tls_cfg_bytes(const struct tls_cfg *cfg);

/* A client connection on `fd` for slot `id`, offering its session when `offer`; NULL with *code set. */
struct ssl_st *tls_conn_new(struct tls_cfg *cfg, uint32_t id, int fd, int offer, int *code);
void tls_conn_free(struct ssl_st *ssl);
/* Whether OpenSSL holds bytes read from the socket and not yet returned: read them before waiting. */
int tls_buffered(struct ssl_st *ssl);
/* A held connection went idle: its record buffers (~17 KB each way) are given back until next used. */
void tls_idle(struct ssl_st *ssl);
/* One handshake step: 0 done (and verified), TLS_WANT_*, or a failure code. */
int tls_handshake(struct ssl_st *ssl);
/*
 * A done handshake is reported with the attempt's next event, in the same batch (EV_TLS before it),
 * not in a JavaScript call of its own one round trip before CONNACK: tls_set_done keeps its time
 * (µs since the open), tls_take_done hands it over once — 1 with `info` (TLS_RESUMED |
 * TLS_KEY_EXCHANGE) and the time, 0 when there is none. An attempt dropped before drops it with it.
 */
void tls_set_done(struct ssl_st *ssl, double at_us);
int tls_take_done(struct ssl_st *ssl, int *info, double *at_us);
/* Writes up to n bytes: the count written (> 0), or -1 with *code = TLS_WANT_* or a failure code. */
ssize_t tls_send(struct ssl_st *ssl, const void *b, size_t n, int *code);
/* Reads: the count (> 0), 0 when the peer closed, or -1 with *code = TLS_WANT_* or a failure code. */
ssize_t tls_recv(struct ssl_st *ssl, void *b, size_t n, int *code);

/* The JavaScript path's code for a TLS outcome code (X509 verification name or ERR_SSL_<REASON>). */
void tls_code_name(double code, char *out, size_t len);
#endif
