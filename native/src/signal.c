/* See signal.h. */
#include "signal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ST_FLAGS = 0, ST_RC, ST_PLEN, ST_ID, ST_NUM, ST_SLEN, ST_SBODY, ST_DONE };
enum { T_NONE = 0, T_BYTE, T_INT16, T_INT32, T_STRING, T_BINARY, T_PAIR };

#define REFERENCE 0x1c
#define USER_PROPERTY 0x26

/* The properties CONNACK (§3.2.2.3) and DISCONNECT (§3.14.2.2) may carry, by identifier. */
static uint8_t prop_type(uint8_t packet, uint8_t id) {
  switch (id) {
  case 0x11: return T_INT32;  /* Session Expiry Interval */
  case 0x1c: return T_STRING; /* Server Reference */
  case 0x1f: return T_STRING; /* Reason String */
  case 0x26: return T_PAIR;   /* User Property */
  default: break;
  }
  if (packet != 2) return T_NONE;
  switch (id) {
  case 0x12: return T_STRING; /* Assigned Client Identifier */
  case 0x13: return T_INT16;  /* Server Keep Alive */
  case 0x15: return T_STRING; /* Authentication Method */
  case 0x16: return T_BINARY; /* Authentication Data */
  case 0x1a: return T_STRING; /* Response Information */
  case 0x21: return T_INT16;  /* Receive Maximum */
  case 0x22: return T_INT16;  /* Topic Alias Maximum */
  case 0x24: return T_BYTE;   /* Maximum QoS */
  case 0x25: return T_BYTE;   /* Retain Available */
  case 0x27: return T_INT32;  /* Maximum Packet Size */
  case 0x28: return T_BYTE;   /* Wildcard Subscription Available */
  case 0x29: return T_BYTE;   /* Subscription Identifier Available */
  case 0x2a: return T_BYTE;   /* Shared Subscription Available */
  default: return T_NONE;
  }
}

/* The DISCONNECT reason codes of §3.14.2.1. */
static int disconnect_code(uint8_t rc) {
  static const uint8_t CODES[] = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94,
                                  0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2};
  for (size_t i = 0; i < sizeof CODES; i++)
    if (CODES[i] == rc) return 1;
  return 0;
}

/* Well-formed UTF-8 (Unicode Table 3-7) without U+0000 (§1.5.4). */
static int utf8_ok(const uint8_t *s, uint32_t n) {
  uint32_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    uint32_t len;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c == 0) return 0;
    if (c < 0x80) len = 1;
    else if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else return 0;
    if (n - i < len) return 0;
    for (uint32_t k = 1; k < len; k++) {
      uint8_t x = s[i + k];
      if (x < (k == 1 ? lo : 0x80) || x > (k == 1 ? hi : 0xbf)) return 0;
    }
    i += len;
  }
  return 1;
}

void sig_begin(struct sig_reader *r, uint8_t packet, uint32_t rem) {
  memset(r, 0, sizeof *r);
  r->packet = packet;
  r->left = rem;
  r->step = packet == 2 ? ST_FLAGS : ST_RC;
  /* A DISCONNECT with no body is reason 0x00 without properties (§3.14.2.1). */
  if (packet != 2 && rem == 0) r->step = ST_DONE, r->result = SIG_OK;
  if (packet == 2 && rem == 0) r->step = ST_DONE, r->result = SIG_BAD;
}

void sig_free(struct sig_reader *r) {
  free(r->ref);
  r->ref = NULL;
  r->ref_len = r->ref_cap = 0;
}

static int bad(struct sig_reader *r) {
  r->result = SIG_BAD;
  r->step = ST_DONE;
  return SIG_BAD;
}

/* A property's value was read: on to the next property, or done when the body is. */
static void next(struct sig_reader *r) {
  r->step = r->left == 0 ? ST_DONE : ST_ID;
  if (r->left == 0) r->result = SIG_OK;
}

static int store_number(struct sig_reader *r) {
  uint32_t v = r->num;
  if (prop_type(r->packet, r->id) == T_BYTE && v > 1) return 0;
  if ((r->id == 0x21 || r->id == 0x27) && v == 0) return 0; /* Receive Maximum, Maximum Packet Size */
  if (r->id == 0x13) r->keepalive_s = (uint16_t)v, r->has |= HAS_KEEPALIVE;
  else if (r->id == 0x11) r->expiry_s = v, r->has |= HAS_EXPIRY;
  else if (r->id == 0x24) r->max_qos = (uint8_t)v, r->has |= HAS_MAX_QOS;
  else if (r->id == 0x25) r->retain = (uint8_t)v, r->has |= HAS_RETAIN;
  else if (r->id == 0x21) r->recv_max = (uint16_t)v, r->has |= HAS_RECV_MAX;
  return 1;
}

/* Appends Server Reference bytes as they arrive: a server that announces 64 KB and sends 10 costs 10. */
static int keep(struct sig_reader *r, const uint8_t *b, uint32_t n) {
  if (r->ref_len + n > r->ref_cap) {
    uint32_t cap = r->ref_cap < 64 ? 64 : r->ref_cap * 2;
    if (cap < r->ref_len + n) cap = r->ref_len + n;
    if (cap > r->ref_len + r->num) cap = r->ref_len + r->num;
    uint8_t *p = realloc(r->ref, cap);
    if (p == NULL) return 0;
    r->ref = p;
    r->ref_cap = cap;
  }
  memcpy(r->ref + r->ref_len, b, n);
  r->ref_len += n;
  return 1;
}

/* A string (or binary, or one half of a pair) was read; 0 when it is malformed. */
static int end_string(struct sig_reader *r) {
  if (r->id == REFERENCE) {
    if (!utf8_ok(r->ref, r->ref_len)) return 0;
    r->has |= HAS_REFERENCE;
  }
  if (r->pair == 1) {
    r->pair = 2;
    r->step = ST_SLEN;
    r->need = 2;
    r->num = 0;
  } else next(r);
  return 1;
}

/* One byte of the fixed part (flags, reason code, lengths, numbers); 0 when the packet is malformed. */
static int step_byte(struct sig_reader *r, uint8_t x) {
  switch (r->step) {
  case ST_FLAGS:
    if (x > 1) return 0; /* CONNACK flags: bits 7–1 are reserved (§3.2.2.1) */
    r->flags = x;
    r->step = ST_RC;
    return 1;
  case ST_RC:
    r->rc = x;
    if (r->packet != 2 && !disconnect_code(x)) return 0;
    /* A DISCONNECT may end after its reason code (§3.14.2.2.1); a CONNACK always has properties. */
    if (r->left == 0) return r->packet != 2 ? (next(r), 1) : 0;
    r->step = ST_PLEN;
    return 1;
  case ST_PLEN:
    r->num |= (uint32_t)(x & 0x7f) << (7 * r->nvar++);
    if (x & 0x80) return r->nvar < 4;
    if (r->num != r->left) return 0; /* the properties are the rest of the packet, exactly */
    next(r);
    return 1;
  case ST_ID: {
    uint8_t t = x < 64 ? prop_type(r->packet, x) : T_NONE;
    uint64_t bit = (uint64_t)1 << (x & 63);
    if (t == T_NONE || (x != USER_PROPERTY && (r->seen & bit))) return 0;
    r->seen |= bit;
    r->id = x;
    r->num = 0;
    r->pair = t == T_PAIR ? 1 : 0;
    r->step = t <= T_INT32 ? ST_NUM : ST_SLEN;
    r->need = t == T_BYTE ? 1 : t == T_INT16 ? 2 : t == T_INT32 ? 4 : 2;
    return 1;
  }
  case ST_NUM:
    r->num = r->num << 8 | x;
    if (--r->need > 0) return 1;
    if (!store_number(r)) return 0;
    next(r);
    return 1;
  case ST_SLEN:
    r->num = r->num << 8 | x;
    if (--r->need > 0) return 1;
    if (r->num > r->left) return 0;
    if (r->num == 0) return end_string(r);
    r->step = ST_SBODY;
    return 1;
  default:
    return 0; /* bytes past the end cannot be fed: `left` counts them */
  }
}

int sig_feed(struct sig_reader *r, const uint8_t *b, uint32_t n) {
  uint32_t i = 0;
  while (i < n && r->result == SIG_MORE) {
    if (r->left == 0) return bad(r);
    if (r->step == ST_SBODY) {
      uint32_t take = n - i < r->num ? n - i : r->num;
      if (r->id == REFERENCE && !keep(r, b + i, take)) return bad(r);
      i += take;
      r->left -= take;
      r->num -= take;
      if (r->num == 0 && !end_string(r)) return bad(r);
      continue;
    }
    r->left--;
    if (!step_byte(r, b[i++])) return bad(r);
  }
  if (r->result == SIG_MORE && r->left == 0) return bad(r); /* the body ended inside a property */
  return r->result;
}

void sig_event(const struct sig_reader *r, double *code, double *t1, double *t2) {
  *code = (double)(r->rc | (r->packet != 2) << 8 | (r->has & 63) << 9 | (r->max_qos & 1) << 15 | (r->retain & 1) << 16);
  *t1 = (r->has & HAS_KEEPALIVE) ? (double)r->keepalive_s : NAN;
  *t2 = (r->has & HAS_EXPIRY) ? (double)r->expiry_s : NAN;
}
