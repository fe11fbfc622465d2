/*
 * See tls.h. Everything runs on Node's main thread, whose OpenSSL error queue Node's own crypto
 * shares: every call here starts and ends with that queue empty.
 *
 * Verification follows Node's client (lib/_tls_wrap.js onConnectSecure): OpenSSL verifies the chain
 * with SSL_VERIFY_NONE and the result is read once the handshake is done; then, unless the session
 * was resumed, the leaf must carry the name checked (an IP literal against its IP addresses).
 */
#define _GNU_SOURCE
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_int.h"

int tls_cfg_index = -1;
/* The SSL ex_data slot holding a finished handshake's time until it is reported (tls_take_done). */
static int tls_done_index = -1;

static char *dup_or_null(const char *s) {
  return s == NULL ? NULL : strdup(s);
}

static int load_ca(X509_STORE *store, const char *pem, size_t len) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (bio == NULL) return 0;
  int n = 0;
  X509 *x;
  while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    if (X509_STORE_add_cert(store, x) == 1) n++;
    X509_free(x);
  }
  BIO_free(bio);
  ERR_clear_error(); /* the end of the bundle reads as "no start line" */
  return n;
}

struct tls_cfg *tls_cfg_new(const struct tls_cfg_opts *o, char *err, size_t errlen) {
  ERR_clear_error();
  if (tls_cfg_index < 0) tls_cfg_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  if (tls_done_index < 0) tls_done_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  struct tls_cfg *cfg = calloc(1, sizeof *cfg);
  if (cfg == NULL) return snprintf(err, errlen, "out of memory"), NULL;
  cfg->head = cfg->tail = NO_SLOT;
  cfg->max = o->max_sessions;
  cfg->verify = o->verify;
  cfg->min_version = o->min_version;
  cfg->max_version = o->max_version;
  cfg->psk_without_kx = o->psk_without_kx;
  cfg->ciphers = dup_or_null(o->ciphers);
  cfg->sni = dup_or_null(o->servername);
  cfg->check_name = dup_or_null(o->check_name);
  struct in6_addr a;
  cfg->check_ip = o->check_name != NULL &&
                  (inet_pton(AF_INET, o->check_name, &a) == 1 || inet_pton(AF_INET6, o->check_name, &a) == 1);
  cfg->store = X509_STORE_new();
  cfg->nctx = o->npairs > 0 ? o->npairs : 1;
  cfg->ctx = calloc(cfg->nctx, sizeof *cfg->ctx);
  cfg->certs = calloc(cfg->nctx, sizeof *cfg->certs);
  cfg->keys = calloc(cfg->nctx, sizeof *cfg->keys);
  cfg->cert_lens = calloc(cfg->nctx, sizeof *cfg->cert_lens);
  cfg->key_lens = calloc(cfg->nctx, sizeof *cfg->key_lens);
  int ok = cfg->store != NULL && cfg->ctx != NULL && cfg->certs != NULL && cfg->keys != NULL &&
           cfg->cert_lens != NULL && cfg->key_lens != NULL;
  if (ok && o->alpn != NULL && o->alpn_len > 0) {
    cfg->alpn = malloc(o->alpn_len);
    ok = cfg->alpn != NULL;
    if (ok) memcpy(cfg->alpn, o->alpn, o->alpn_len);
    cfg->alpn_len = o->alpn_len;
  }
  for (uint32_t i = 0; ok && i < o->npairs; i++) {
    cfg->certs[i] = malloc(o->cert_lens[i]);
    cfg->keys[i] = malloc(o->key_lens[i]);
    ok = cfg->certs[i] != NULL && cfg->keys[i] != NULL;
    if (!ok) break;
    memcpy(cfg->certs[i], o->certs[i], o->cert_lens[i]);
    memcpy(cfg->keys[i], o->keys[i], o->key_lens[i]);
    cfg->cert_lens[i] = o->cert_lens[i];
    cfg->key_lens[i] = o->key_lens[i];
  }
  if (!ok) {
    tls_cfg_free(cfg);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (o->ca != NULL && load_ca(cfg->store, o->ca, o->ca_len) == 0) {
    tls_cfg_free(cfg);
    snprintf(err, errlen, "no CA certificate could be read from the CA bundle");
    return NULL;
  }
  return cfg;
}

/* Node's VerifyCallback: the chain is walked to its end whatever fails, so the result read after
 * the handshake is the one Node reports (the last error met, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
static int verify_all(int ok, X509_STORE_CTX *store) {
  return 1;
}

/* The context of client certificate pair `k` (the fleet's when there are none), built once. */
static SSL_CTX *ctx_for(struct tls_cfg *cfg, uint32_t k, int *code) {
  if (cfg->ctx[k] != NULL) return cfg->ctx[k];
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL) return *code = ENOMEM, NULL;
  SSL_CTX_set1_cert_store(ctx, cfg->store);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, verify_all);
  SSL_CTX_set_ex_data(ctx, tls_cfg_index, cfg);
  /* Record buffers (16 KB+ each way) are kept through the handshake, CONNECT and CONNACK: released
   * after every record there, they were allocated and freed ~6 times per connection. A held
   * connection gives them back from its first idle moment on (tls_idle). */
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  /* One read takes what the socket holds (a whole server flight) instead of a header then a body
   * per record: ~20 read calls per TLS 1.3 handshake and CONNACK become ~6. What it reads ahead
   * is OpenSSL's until read: wire.c and wire_io.c ask tls_buffered() before waiting for the socket. */
  SSL_CTX_set_read_ahead(ctx, 1);
  uint64_t ops = SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION;
  if (cfg->psk_without_kx) ops |= SSL_OP_ALLOW_NO_DHE_KEX;
  SSL_CTX_set_options(ctx, ops);
  int ok = 1;
  if (cfg->min_version) ok &= SSL_CTX_set_min_proto_version(ctx, cfg->min_version);
  if (cfg->max_version) ok &= SSL_CTX_set_max_proto_version(ctx, cfg->max_version);
  if (cfg->ciphers != NULL) {
    /* As Node splits its cipher string: TLS 1.3 suites are named TLS_*, the rest is a cipher list. */
    size_t n = strlen(cfg->ciphers) + 1;
    char *suites = calloc(n, 1), *list = calloc(n, 1), *copy = strdup(cfg->ciphers), *save = NULL;
    if (suites == NULL || list == NULL || copy == NULL) ok = 0;
    for (char *t = ok ? strtok_r(copy, ":", &save) : NULL; t != NULL; t = strtok_r(NULL, ":", &save)) {
      char *dst = strncmp(t, "TLS_", 4) == 0 ? suites : list;
      if (*dst != '\0') strcat(dst, ":");
      strcat(dst, t);
    }
    if (ok && *suites != '\0') ok = SSL_CTX_set_ciphersuites(ctx, suites) == 1;
    if (ok && *list != '\0') ok = SSL_CTX_set_cipher_list(ctx, list) == 1;
    free(suites);
    free(list);
    free(copy);
  }
  if (ok && cfg->alpn != NULL) ok = SSL_CTX_set_alpn_protos(ctx, cfg->alpn, (unsigned)cfg->alpn_len) == 0;
  if (ok && cfg->max > 0) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, tls_on_new_session);
  }
  if (ok && cfg->certs[k] != NULL) {
    BIO *cb = BIO_new_mem_buf(cfg->certs[k], (int)cfg->cert_lens[k]);
    BIO *kb = BIO_new_mem_buf(cfg->keys[k], (int)cfg->key_lens[k]);
    X509 *leaf = cb != NULL ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = kb != NULL ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    ok = leaf != NULL && key != NULL && SSL_CTX_use_certificate(ctx, leaf) == 1 &&
         SSL_CTX_use_PrivateKey(ctx, key) == 1;
    X509 *extra;
    while (ok && (extra = PEM_read_bio_X509(cb, NULL, NULL, NULL)) != NULL) {
      if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) X509_free(extra);
    }
    X509_free(leaf);
    EVP_PKEY_free(key);
    BIO_free(cb);
    BIO_free(kb);
  }
  if (!ok) {
    unsigned long e = ERR_peek_error();
    *code = e != 0 ? (int)(e & 0x7fffffff) : EINVAL;
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
  }
  ERR_clear_error(); /* the end of a chain file reads as "no start line" */
  free(cfg->certs[k]);
  free(cfg->keys[k]);
  cfg->certs[k] = cfg->keys[k] = NULL;
  cfg->ctx[k] = ctx;
  return ctx;
}

void tls_cfg_free(struct tls_cfg *cfg) {
  if (cfg == NULL) return;
  while (cfg->head != NO_SLOT) tls_unlink_session(cfg, cfg->head);
  for (uint32_t i = 0; i < cfg->nctx; i++) {
    if (cfg->ctx != NULL) SSL_CTX_free(cfg->ctx[i]);
    if (cfg->certs != NULL) free(cfg->certs[i]);
    if (cfg->keys != NULL) free(cfg->keys[i]);
  }
  X509_STORE_free(cfg->store);
  free(cfg->ctx);
  free(cfg->certs);
  free(cfg->keys);
  free(cfg->cert_lens);
  free(cfg->key_lens);
  free(cfg->sess);
  free(cfg->prev);
  free(cfg->next);
  free(cfg->ciphers);
  free(cfg->sni);
  free(cfg->check_name);
  free(cfg->alpn);
  free(cfg);
}

struct ssl_st *tls_conn_new(struct tls_cfg *cfg, uint32_t id, int fd, int offer, int *code) {
  ERR_clear_error();
  SSL_CTX *ctx = ctx_for(cfg, id % cfg->nctx, code);
  if (ctx == NULL) return NULL;
  SSL *ssl = SSL_new(ctx);
  if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
      (cfg->sni != NULL && SSL_set_tlsext_host_name(ssl, cfg->sni) != 1) ||
      (offer && tls_has_session(cfg, id) && SSL_set_session(ssl, cfg->sess[id]) != 1)) {
    SSL_free(ssl);
    ERR_clear_error();
    return *code = ENOMEM, NULL;
  }
  SSL_set_app_data(ssl, (void *)(uintptr_t)id);
  SSL_set_connect_state(ssl);
  return ssl;
}

void tls_conn_free(struct ssl_st *ssl) {
  /* No close_notify: the socket closes now. Marked as shut down all the same, or OpenSSL would
   * mark the slot's kept session not resumable (ssl_clear_bad_session). */
  if (ssl != NULL) SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(ssl);
}

int tls_buffered(struct ssl_st *ssl) {
  return SSL_has_pending(ssl);
}

void tls_idle(struct ssl_st *ssl) {
  /* From now on each buffer goes back once empty; that alone leaves the read buffer of the last
   * record in place, so both are freed now. Fails, harmlessly, while a buffer still holds data. */
  SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_pending(ssl) == 0) (void)!SSL_free_buffers(ssl);
}

/* The outcome code of a failed call that returned `ret`; TLS_WANT_* to wait, 0 for a clean close. */
static int failure(SSL *ssl, int ret) {
  int saved = errno;
  int e = SSL_get_error(ssl, ret);
  unsigned long q = ERR_peek_error();
  ERR_clear_error();
  if (e == SSL_ERROR_WANT_READ) return TLS_WANT_READ;
  if (e == SSL_ERROR_WANT_WRITE) return TLS_WANT_WRITE;
  if (e == SSL_ERROR_ZERO_RETURN) return 0;
  if (q != 0 && ERR_SYSTEM_ERROR(q)) return ERR_GET_REASON(q);
  if (q != 0 && ERR_GET_REASON(q) != SSL_R_UNEXPECTED_EOF_WHILE_READING) return (int)(q & 0x7fffffff);
  if (e == SSL_ERROR_SYSCALL && saved != 0 && saved != EAGAIN) return saved;
  return 0; /* EOF */
}

static int name_ok(struct tls_cfg *cfg, SSL *ssl) {
  X509 *leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == NULL || cfg->check_name == NULL) return 0;
  if (cfg->check_ip) return X509_check_ip_asc(leaf, cfg->check_name, 0) == 1;
  return X509_check_host(leaf, cfg->check_name, 0, 0, NULL) == 1;
}

int tls_handshake(struct ssl_st *ssl) {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl);
  if (r != 1) {
    int f = failure(ssl, r);
    return f == 0 ? CODE_CLOSED_DURING_TLS : f;
  }
  struct tls_cfg *cfg = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_cfg_index);
  int resumed = SSL_session_reused(ssl);
  ERR_clear_error();
  if (cfg == NULL || !cfg->verify) return 0;
  long v = SSL_get_verify_result(ssl);
  int code = v != X509_V_OK ? CODE_TLS_VERIFY_BASE + (int)(v < 0 || v > 999 ? 1 : v)
             : !resumed && !name_ok(cfg, ssl) ? CODE_TLS_ALTNAME
                                              : 0;
  /* A session from a server that failed the checks is never offered again (TLS 1.2 hands it over
   * before they run): a resumption skips the name check. Node keeps it pending until verified. */
  uint32_t id = (uint32_t)(uintptr_t)SSL_get_app_data(ssl);
  if (code != 0 && tls_has_session(cfg, id) && cfg->sess[id] == SSL_get0_session(ssl)) tls_unlink_session(cfg, id);
  return code;
}

/* The time rides in the pointer-sized ex_data value itself: no allocation per connection. A 32-bit
 * build keeps it as a float (whole µs up to ~16 s after the open: ample inside a connect timeout). */
void tls_set_done(struct ssl_st *ssl, double at_us) {
  uintptr_t bits = 0;
#if UINTPTR_MAX >= UINT64_MAX
  memcpy(&bits, &at_us, sizeof at_us);
#else
  float f = (float)at_us;
  memcpy(&bits, &f, sizeof f);
#endif
  SSL_set_ex_data(ssl, tls_done_index, (void *)(bits != 0 ? bits : 1)); /* 0: none pending */
}

int tls_take_done(struct ssl_st *ssl, int *info, double *at_us) {
  uintptr_t bits = (uintptr_t)SSL_get_ex_data(ssl, tls_done_index);
  if (bits == 0) return 0;
  SSL_set_ex_data(ssl, tls_done_index, NULL);
#if UINTPTR_MAX >= UINT64_MAX
  memcpy(at_us, &bits, sizeof *at_us);
#else
  float f;
  memcpy(&f, &bits, sizeof f);
  *at_us = f;
#endif
  int resumed = SSL_session_reused(ssl);
  EVP_PKEY *kx = NULL;
  /* Node's getEphemeralKeyInfo(): no peer ephemeral key = a resumption without key exchange. */
  if (SSL_get_peer_tmp_key(ssl, &kx) == 1 && kx != NULL) {
    *info = (resumed ? TLS_RESUMED : 0) | TLS_KEY_EXCHANGE;
    EVP_PKEY_free(kx);
  } else {
    *info = resumed ? TLS_RESUMED : TLS_KEY_EXCHANGE;
  }
  ERR_clear_error();
  return 1;
}

ssize_t tls_send(struct ssl_st *ssl, const void *b, size_t n, int *code) {
  ERR_clear_error();
  size_t done = 0;
  int r = SSL_write_ex(ssl, b, n, &done);
  if (r == 1) return (ssize_t)done;
  int f = failure(ssl, 0);
  *code = f == 0 ? EPIPE : f;
  return -1;
}

ssize_t tls_recv(struct ssl_st *ssl, void *b, size_t n, int *code) {
  ERR_clear_error();
  size_t got = 0;
  if (SSL_read_ex(ssl, b, n, &got) == 1) return (ssize_t)got;
  int f = failure(ssl, 0);
  if (f == 0) return 0;
  *code = f;
  return -1;
}
