/*
 * What tls.c and tls_sessions.c share of a TLS setting: its record, private to the TLS code
 * (tls.h is the interface wire.c and the binding use).
 */
#ifndef HERD_TLS_INT_H
#define HERD_TLS_INT_H
#include <openssl/ssl.h>

#include "tls.h"

#define NO_SLOT UINT32_MAX

struct tls_cfg {
  X509_STORE *store;
  SSL_CTX **ctx; /* one per client certificate pair (or one), built on first use */
  uint32_t nctx;
  char **certs, **keys; /* the pairs' PEMs until their context is built */
  size_t *cert_lens, *key_lens;
  int verify, min_version, max_version, psk_without_kx, check_ip;
  char *ciphers, *sni, *check_name;
  uint8_t *alpn;
  size_t alpn_len;
  /* Sessions by slot, in a doubly linked list oldest first (NO_SLOT ends it). */
  SSL_SESSION **sess;
  uint32_t *prev, *next;
  uint32_t cap, count, max, head, tail;
};

/* The SSL_CTX ex_data slot holding a context's tls_cfg (made by the first tls_cfg_new). */
extern int tls_cfg_index;
/* Forgets slot `id`'s session (it must have one). */
void tls_unlink_session(struct tls_cfg *cfg, uint32_t id);
/* OpenSSL's new-session callback: keeps the slot's latest session, the oldest evicted past the cap. */
int tls_on_new_session(SSL *ssl, SSL_SESSION *s);
#endif
