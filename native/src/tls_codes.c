/*
 * The JavaScript path's names for the native core's TLS outcome codes (tls.h): a certificate
 * verification result by Node's name for it, any other OpenSSL error as Node's TLS socket names it.
 */
#include <ctype.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>

#include "tls.h"

/* Node's names for the verification results it reports (src/crypto/crypto_common.cc X509ErrorCode). */
#define X(name) {X509_V_ERR_##name, #name}
static const struct {
  int v;
  const char *name;
} VERIFY_NAMES[] = {
    X(UNABLE_TO_GET_ISSUER_CERT),        X(UNABLE_TO_GET_CRL),
    X(UNABLE_TO_DECRYPT_CERT_SIGNATURE), X(UNABLE_TO_DECRYPT_CRL_SIGNATURE),
    X(UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY), X(CERT_SIGNATURE_FAILURE),
    X(CRL_SIGNATURE_FAILURE),            X(CERT_NOT_YET_VALID),
    X(CERT_HAS_EXPIRED),                 X(CRL_NOT_YET_VALID),
    X(CRL_HAS_EXPIRED),                  X(ERROR_IN_CERT_NOT_BEFORE_FIELD),
    X(ERROR_IN_CERT_NOT_AFTER_FIELD),    X(ERROR_IN_CRL_LAST_UPDATE_FIELD),
    X(ERROR_IN_CRL_NEXT_UPDATE_FIELD),   X(OUT_OF_MEM),
    X(DEPTH_ZERO_SELF_SIGNED_CERT),      X(SELF_SIGNED_CERT_IN_CHAIN),
    X(UNABLE_TO_GET_ISSUER_CERT_LOCALLY), X(UNABLE_TO_VERIFY_LEAF_SIGNATURE),
    X(CERT_CHAIN_TOO_LONG),              X(CERT_REVOKED),
    X(INVALID_CA),                       X(PATH_LENGTH_EXCEEDED),
    X(INVALID_PURPOSE),                  X(CERT_UNTRUSTED),
    X(CERT_REJECTED),                    X(HOSTNAME_MISMATCH),
};
#undef X

void tls_code_name(double code, char *out, size_t len) {
  if (code >= CODE_TLS_VERIFY_BASE && code < CODE_TLS_VERIFY_BASE + 1000) {
    int v = (int)code - CODE_TLS_VERIFY_BASE;
    for (size_t i = 0; i < sizeof VERIFY_NAMES / sizeof VERIFY_NAMES[0]; i++)
      if (VERIFY_NAMES[i].v == v) return (void)snprintf(out, len, "%s", VERIFY_NAMES[i].name);
    snprintf(out, len, "UNSPECIFIED");
    return;
  }
  /* As Node's TLSWrap names an OpenSSL error: ERR_SSL_ and its reason string, upper-cased, _ for spaces. */
  const char *r = ERR_reason_error_string((unsigned long)code);
  size_t n = (size_t)snprintf(out, len, "ERR_SSL_%s", r != NULL ? r : "UNKNOWN");
  for (size_t i = 8; i < n && i < len; i++) out[i] = out[i] == ' ' ? '_' : (char)toupper((unsigned char)out[i]);
}
