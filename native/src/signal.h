/*
 * A streaming reader of the MQTT 5 CONNACK and DISCONNECT bodies a server steers devices with
 * (reason code, Server Keep Alive, Session Expiry Interval, Server Reference, Maximum QoS, Retain
 * Available). It is fed a packet's body in pieces of any size and keeps no bytes but the Server
 * Reference's (≤ 65,535, as many as arrived). Malformed by the spec's rules (§2.2.2, §3.2.2.3,
 * §3.14.2.2) — a property length that does not end the packet, a property that does not fit, one
 * the packet may not carry or carries twice, a byte property other than 0 or 1, a Receive Maximum
 * of 0, a Server Reference that is not well-formed UTF-8 or holds U+0000, a DISCONNECT reason code
 * the spec does not define — is `SIG_BAD`. src/protocols/mqtt/server-signals.ts applies the same
 * rules to the JavaScript path's packets.
 */
#ifndef HERD_SIGNAL_H
#define HERD_SIGNAL_H
#include <stdint.h>

enum { SIG_MORE = 0, SIG_OK = 1, SIG_BAD = 2 };

/* Bits of `has`: which properties the packet carried. */
enum { HAS_KEEPALIVE = 1, HAS_EXPIRY = 2, HAS_MAX_QOS = 4, HAS_RETAIN = 8, HAS_REFERENCE = 16, HAS_RECV_MAX = 32 };

struct sig_reader {
  uint32_t left;   /* body bytes not yet fed */
  uint32_t plen;   /* property bytes announced and not yet read (while reading them) */
  uint32_t num;    /* the number, string length or property length being read */
  uint64_t seen;   /* property identifiers met so far (all are < 64) */
  uint8_t packet;  /* 2 CONNACK, 14 DISCONNECT */
  uint8_t step, id, need, nvar, pair, result;
  /* What was read. */
  uint8_t flags, rc, max_qos, retain, has;
  uint16_t keepalive_s, recv_max;
  uint32_t expiry_s;
  uint8_t *ref; /* the Server Reference's bytes (malloc'd; the caller owns it after SIG_OK) */
  uint32_t ref_len, ref_cap;
};

/* Starts reading a body of `rem` bytes of `packet` (2 or 14). */
void sig_begin(struct sig_reader *r, uint8_t packet, uint32_t rem);
/* Feeds the next `n` body bytes; SIG_MORE until the body is complete, then SIG_OK or SIG_BAD. */
int sig_feed(struct sig_reader *r, const uint8_t *b, uint32_t n);
/*
 * The outcome as one event's numbers (src/protocols/native/codes.ts decodes them): code = reason
 * code | DISCONNECT << 8 | has << 9 | Maximum QoS << 15 | Retain Available << 16; t1 = Server Keep
 * Alive (s) and t2 = Session Expiry Interval (s), NaN when absent.
 */
void sig_event(const struct sig_reader *r, double *code, double *t1, double *t2);
/* Frees what the reader holds (the Server Reference, unless the caller took it). */
void sig_free(struct sig_reader *r);
#endif
