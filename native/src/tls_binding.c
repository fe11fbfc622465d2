/*
 * See tls_binding.h. Settings are few (one per cohort target) and live as long as their core.
 */
#include "tls_binding.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* A core takes at most this many TLS settings: cohorts × targets, each made once. */
#define MAX_CFGS 4096

#define TRY(call)                                                            \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      napi_throw_error(env, "E_NATIVE", "herd_native: " #call " failed");    \
      goto out;                                                              \
    }                                                                        \
  } while (0)

void tls_cfgs_free(struct tls_cfgs *t) {
  for (uint32_t i = 0; i < t->n; i++) tls_cfg_free(t->v[i]);
  free(t->v);
  t->v = NULL;
  t->n = t->cap = 0;
}

uint64_t tls_cfgs_bytes(const struct tls_cfgs *t) {
  uint64_t n = 0;
  for (uint32_t i = 0; i < t->n; i++) n += tls_cfg_bytes(t->v[i]);
  return n;
}

/* A string argument, malloc'd; NULL for null/undefined (and for anything else, with `bad` set). */
static char *str_arg(napi_env env, napi_value v, int *bad) {
  napi_valuetype t;
  size_t n = 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    if (t != napi_null && t != napi_undefined) *bad = 1;
    return NULL;
  }
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return *bad = 1, NULL;
  char *s = malloc(n + 1);
  if (s == NULL || napi_get_value_string_utf8(env, v, s, n + 1, &n) != napi_ok) return free(s), *bad = 1, NULL;
  return s;
}

/* A Buffer argument's bytes (not copied); NULL for null/undefined. */
static const void *buf_arg(napi_env env, napi_value v, size_t *len) {
  void *p = NULL;
  *len = 0;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_object) return NULL;
  return napi_get_buffer_info(env, v, &p, len) == napi_ok ? p : NULL;
}

/*
 * tlsConfig(core, ca: Buffer | null, verify, minVersion, maxVersion, ciphers, alpn: Buffer | null,
 *           servername | null, checkName, certs: Buffer[], keys: Buffer[], maxSessions, pskWithoutKx)
 * → the setting's index (≥ 1); throws E_NATIVE naming what OpenSSL refused.
 */
napi_value tls_config_js(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13], result = NULL;
  struct tls_cfg_opts o;
  memset(&o, 0, sizeof o);
  char *ciphers = NULL, *sni = NULL, *check = NULL;
  const char **certs = NULL, **keys = NULL;
  size_t *cert_lens = NULL, *key_lens = NULL;
  struct tls_cfgs *cfgs;
  void *core;
  bool verify = true, psk = false;
  int bad = 0;
  uint32_t npairs = 0, nkeys = 0;
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 13 || binding_core(env, argv[0], &cfgs, &core) == NULL) goto out;
  o.ca = buf_arg(env, argv[1], &o.ca_len);
  TRY(napi_get_value_bool(env, argv[2], &verify));
  TRY(napi_get_value_int32(env, argv[3], &o.min_version));
  TRY(napi_get_value_int32(env, argv[4], &o.max_version));
  ciphers = str_arg(env, argv[5], &bad);
  o.alpn = buf_arg(env, argv[6], &o.alpn_len);
  sni = str_arg(env, argv[7], &bad);
  check = str_arg(env, argv[8], &bad);
  TRY(napi_get_array_length(env, argv[9], &npairs));
  TRY(napi_get_array_length(env, argv[10], &nkeys));
  TRY(napi_get_value_uint32(env, argv[11], &o.max_sessions));
  TRY(napi_get_value_bool(env, argv[12], &psk));
  if (bad || npairs != nkeys) {
    napi_throw_type_error(env, "E_NATIVE", "herd_native.tlsConfig: bad arguments");
    goto out;
  }
  certs = calloc(npairs + 1, sizeof *certs);
  keys = calloc(npairs + 1, sizeof *keys);
  cert_lens = calloc(npairs + 1, sizeof *cert_lens);
  key_lens = calloc(npairs + 1, sizeof *key_lens);
  if (certs == NULL || keys == NULL || cert_lens == NULL || key_lens == NULL) {
    napi_throw_error(env, "E_NATIVE", "herd_native.tlsConfig: out of memory");
    goto out;
  }
  for (uint32_t i = 0; i < npairs; i++) {
    napi_value c, k;
    TRY(napi_get_element(env, argv[9], i, &c));
    TRY(napi_get_element(env, argv[10], i, &k));
    certs[i] = buf_arg(env, c, &cert_lens[i]);
    keys[i] = buf_arg(env, k, &key_lens[i]);
    if (certs[i] == NULL || keys[i] == NULL) {
      napi_throw_type_error(env, "E_NATIVE", "herd_native.tlsConfig: certs and keys must be Buffers");
      goto out;
    }
  }
  if (cfgs->n >= MAX_CFGS) {
    napi_throw_error(env, "E_NATIVE", "herd_native.tlsConfig: too many TLS settings on one core");
    goto out;
  }
  if (cfgs->n == cfgs->cap) {
    uint32_t cap = cfgs->cap == 0 ? 8 : cfgs->cap * 2;
    struct tls_cfg **v = realloc(cfgs->v, cap * sizeof *v);
    if (v == NULL) {
      napi_throw_error(env, "E_NATIVE", "herd_native.tlsConfig: out of memory");
      goto out;
    }
    cfgs->v = v;
    cfgs->cap = cap;
  }
  o.verify = verify;
  o.psk_without_kx = psk;
  o.ciphers = ciphers;
  o.servername = sni;
  o.check_name = check;
  o.npairs = npairs;
  o.certs = certs;
  o.cert_lens = cert_lens;
  o.keys = keys;
  o.key_lens = key_lens;
  char err[256];
  struct tls_cfg *cfg = tls_cfg_new(&o, err, sizeof err);
  if (cfg == NULL) {
    char msg[300];
    snprintf(msg, sizeof msg, "herd_native.tlsConfig: %s", err);
    napi_throw_error(env, "E_NATIVE", msg);
    goto out;
  }
  cfgs->v[cfgs->n++] = cfg;
  TRY(napi_create_uint32(env, cfgs->n, &result));
out:
  free(ciphers);
  free(sni);
  free(check);
  free(certs);
  free(keys);
  free(cert_lens);
  free(key_lens);
  return result;
}

/* useTls(core, id, setting, offerSession) → 0, or the outcome code of a failure (the attempt is dropped). */
napi_value tls_use_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result = NULL;
  struct tls_cfgs *cfgs;
  void *core;
  uint32_t id, k;
  bool offer = false;
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct wire *w = binding_core(env, argv[0], &cfgs, &core);
  if (w == NULL) goto out;
  TRY(napi_get_value_uint32(env, argv[1], &id));
  TRY(napi_get_value_uint32(env, argv[2], &k));
  TRY(napi_get_value_bool(env, argv[3], &offer));
  if (k == 0 || k > cfgs->n) {
    napi_throw_range_error(env, "E_NATIVE", "herd_native.useTls: no such TLS setting");
    goto out;
  }
  int err = wire_use_tls(w, id, cfgs->v[k - 1], offer);
  binding_refresh(core);
  TRY(napi_create_int32(env, err, &result));
out:
  return result;
}

/* tlsHasSession(core, setting, id) → whether the slot has a session to offer. */
napi_value tls_has_session_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result = NULL;
  struct tls_cfgs *cfgs;
  void *core;
  uint32_t id, k;
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (binding_core(env, argv[0], &cfgs, &core) == NULL) goto out;
  TRY(napi_get_value_uint32(env, argv[1], &k));
  TRY(napi_get_value_uint32(env, argv[2], &id));
  TRY(napi_get_boolean(env, k >= 1 && k <= cfgs->n && tls_has_session(cfgs->v[k - 1], id), &result));
out:
  return result;
}

/* tlsCodeName(code) → the JavaScript path's code for a TLS outcome code. */
napi_value tls_code_name_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result = NULL;
  double code;
  char name[160];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  TRY(napi_get_value_double(env, argv[0], &code));
  tls_code_name(code, name, sizeof name);
  TRY(napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &result));
out:
  return result;
}

/* tlsTakeDone(core, id) → the EV_TLS code of a handshake the attempt finished and had not reported
 * yet (herd ends the attempt before CONNACK: it still counts), taken; -1 when there is none. */
napi_value tls_take_done_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result = NULL;
  struct tls_cfgs *cfgs;
  void *core;
  uint32_t id;
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct wire *w = binding_core(env, argv[0], &cfgs, &core);
  if (w == NULL) goto out;
  TRY(napi_get_value_uint32(env, argv[1], &id));
  TRY(napi_create_int32(env, wire_take_tls(w, id), &result));
out:
  return result;
}
