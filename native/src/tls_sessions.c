/*
 * See tls.h: each device slot's last TLS session, for resumption, capped at the setting's
 * `max_sessions` with the oldest evicted. OpenSSL hands every new session (TLS 1.3: every
 * ticket) to tls_on_new_session; the slot keeps the latest.
 */
#include <stdlib.h>
#include <string.h>

#include "tls_int.h"

void tls_unlink_session(struct tls_cfg *cfg, uint32_t id) {
  uint32_t p = cfg->prev[id], n = cfg->next[id];
  if (p != NO_SLOT) cfg->next[p] = n;
  else cfg->head = n;
  if (n != NO_SLOT) cfg->prev[n] = p;
  else cfg->tail = p;
  SSL_SESSION_free(cfg->sess[id]);
  cfg->sess[id] = NULL;
  cfg->count--;
}

static int grow_sessions(struct tls_cfg *cfg, uint32_t id) {
  if (id < cfg->cap) return 1;
  uint32_t cap = cfg->cap == 0 ? 1024 : cfg->cap;
  while (cap <= id) cap *= 2;
  SSL_SESSION **s = realloc(cfg->sess, (size_t)cap * sizeof *s);
  if (s != NULL) cfg->sess = s;
  uint32_t *p = s == NULL ? NULL : realloc(cfg->prev, (size_t)cap * sizeof *p);
  if (p != NULL) cfg->prev = p;
  uint32_t *n = p == NULL ? NULL : realloc(cfg->next, (size_t)cap * sizeof *n);
  if (n == NULL) return 0; /* the arrays that grew stay valid at the old capacity */
  cfg->next = n;
  memset(s + cfg->cap, 0, (size_t)(cap - cfg->cap) * sizeof *s);
  cfg->cap = cap;
  return 1;
}

/* OpenSSL hands over each new session (TLS 1.3: each ticket): the slot's latest is kept. */
int tls_on_new_session(SSL *ssl, SSL_SESSION *s) {
  struct tls_cfg *cfg = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_cfg_index);
  uint32_t id = (uint32_t)(uintptr_t)SSL_get_app_data(ssl);
  if (cfg == NULL || cfg->max == 0 || !grow_sessions(cfg, id)) return 0;
  if (cfg->sess[id] != NULL) tls_unlink_session(cfg, id);
  else if (cfg->count >= cfg->max) tls_unlink_session(cfg, cfg->head);
  cfg->sess[id] = s;
  cfg->prev[id] = cfg->tail;
  cfg->next[id] = NO_SLOT;
  if (cfg->tail != NO_SLOT) cfg->next[cfg->tail] = id;
  else cfg->head = id;
  cfg->tail = id;
  cfg->count++;
  return 1; /* the reference is ours */
}

int tls_has_session(const struct tls_cfg *cfg, uint32_t id) {
  return id < cfg->cap && cfg->sess[id] != NULL;
}

uint64_t tls_cfg_bytes(const struct tls_cfg *cfg) {
  return (uint64_t)cfg->cap * (sizeof *cfg->sess + sizeof *cfg->prev + sizeof *cfg->next);
}
