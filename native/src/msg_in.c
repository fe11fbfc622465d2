/* Inbound packets on a held connection (see msg.h): PUBLISH, PUBACK … PUBCOMP, SUBACK, UNSUBACK. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "msg_int.h"
#include "wire.h"

/* Skips MQTT 5 properties at b[*pos] (length, then each property by the types of §2.2.2.2); 0 if malformed. */
static int skip_props(const uint8_t *b, uint32_t len, uint32_t *pos) {
  uint32_t plen = 0, k = 0, p = *pos;
  for (;;) {
    if (p >= len || k == 4) return 0;
    uint8_t x = b[p++];
    plen |= (uint32_t)(x & 0x7f) << (7 * k++);
    if (!(x & 0x80)) break;
  }
  if (plen > len - p) return 0;
  uint32_t end = p + plen;
  while (p < end) {
    uint8_t id = b[p++];
    uint32_t need;
    switch (id) {
    case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2a: need = 1; break;
    case 0x13: case 0x21: case 0x22: case 0x23: need = 2; break;
    case 0x02: case 0x11: case 0x18: case 0x27: need = 4; break;
    case 0x0b: /* Subscription Identifier: a variable byte integer */
      for (need = 0; need < 4 && p + need < end && (b[p + need] & 0x80); need++) {}
      need++;
      break;
    case 0x03: case 0x08: case 0x09: case 0x12: case 0x15: case 0x16: case 0x1a: case 0x1c: case 0x1f:
      if (end - p < 2) return 0;
      need = 2 + ((uint32_t)b[p] << 8 | b[p + 1]);
      break;
    case 0x26: /* User Property: two strings */
      if (end - p < 2) return 0;
      need = 2 + ((uint32_t)b[p] << 8 | b[p + 1]);
      if (end - p < need + 2) return 0;
      need += 2 + ((uint32_t)b[p + need] << 8 | b[p + need + 1]);
      break;
    default: return 0;
    }
    if (need > end - p) return 0;
    p += need;
  }
  *pos = p;
  return 1;
}

static int one_of(uint8_t c, const char *codes, size_t n) {
  return memchr(codes, c, n) != NULL;
}
static const char PUBACK_CODES[] = {0x00, 0x10, (char)0x80, (char)0x83, (char)0x87, (char)0x90, (char)0x91, (char)0x97,
                                    (char)0x99};
static const char SUBACK_CODES[] = {0x00, 0x01, 0x02, (char)0x80, (char)0x83, (char)0x87, (char)0x8f, (char)0x91,
                                    (char)0x97, (char)0x9e, (char)0xa1, (char)0xa2};

/* Inbound PUBLISH: answered at QoS 1/2, then handed over as EV_MESSAGE (topic and payload in the blob). */
/* 0: a new inbound QoS 2 id (kept), 1: one already held, -1: past the cap, -2: ENOMEM. */
static int q2_add(struct wire *w, struct msg **m, uint16_t pid) {
  struct msg *s = msg_state(w, m);
  if (s == NULL) return -2;
  for (uint16_t i = 0; i < s->nq2; i++)
    if (s->q2[i] == pid) return 1;
  if (s->nq2 >= s->max) return -1;
  if (s->q2 == NULL) {
    if ((s->q2 = malloc((size_t)s->max * 2)) == NULL) return -2;
    w->msg_bytes += (uint64_t)s->max * 2;
  }
  s->q2[s->nq2++] = pid;
  return 0;
}

static int on_publish(struct wire *w, uint32_t id, struct msg **m, uint8_t version, uint8_t first, const uint8_t *b,
                      uint32_t len) {
  uint8_t qos = (first >> 1) & 3;
  if (len < 2) return CODE_MALFORMED_PACKET;
  uint32_t tlen = (uint32_t)b[0] << 8 | b[1], pos = 2 + tlen;
  if (tlen > len - 2) return CODE_MALFORMED_PACKET;
  uint16_t pid = 0;
  if (qos > 0) {
    if (len - pos < 2) return CODE_MALFORMED_PACKET;
    pid = (uint16_t)(b[pos] << 8 | b[pos + 1]);
    pos += 2;
  }
  if (version == 5 && !skip_props(b, len, &pos)) return CODE_MALFORMED_PACKET;
  int dup2 = 0; /* QoS 2 (the JS path's Inflight.receiveQos2): one delivery per id until its PUBREL */
  if (qos == 2 && (dup2 = q2_add(w, m, pid)) < 0) return dup2 == -2 ? ENOMEM : CODE_RECEIVE_MAXIMUM_EXCEEDED;
  if (qos > 0) {
    /* PUBACK (QoS 1) or PUBREC (QoS 2; its PUBREL is answered with PUBCOMP) */
    uint8_t ack[4] = {qos == 1 ? 0x40 : 0x50, 0x02, (uint8_t)(pid >> 8), (uint8_t)pid};
    if (wire_send(w, id, ack, 4, MSG_MAX_BUFFERED) != 0) return CODE_SEND_BUFFER_FULL;
  }
  if (dup2) return 0;
  uint32_t plen = len - pos;
  uint8_t *o = wire_blob(w, 2 + tlen + 4 + plen);
  if (o == NULL) return ENOMEM;
  double off = (double)(o - w->blob);
  o[0] = b[0], o[1] = b[1];
  memcpy(o + 2, b + 2, tlen);
  o[2 + tlen] = (uint8_t)(plen >> 24), o[3 + tlen] = (uint8_t)(plen >> 16);
  o[4 + tlen] = (uint8_t)(plen >> 8), o[5 + tlen] = (uint8_t)plen;
  if (plen > 0) memcpy(o + 6 + tlen, b + pos, plen);
  wire_emit(w, id, EV_MESSAGE, qos | (first & 1) << 2 | ((first >> 3) & 1) << 3, wire_now_us(), off);
  return 0;
}

/* PUBACK … PUBCOMP: the packet id and, in MQTT 5, a reason code and properties. */
static int on_confirm(struct wire *w, uint32_t id, struct msg *s, uint8_t version, uint8_t type, const uint8_t *b,
                      uint32_t len) {
  if (len < 2) return 0; /* no packet id: it acknowledges nothing (the JavaScript path's decoder lets it pass) */
  uint16_t pid = (uint16_t)(b[0] << 8 | b[1]);
  uint8_t rc = 0;
  if (version == 5 && len > 2) {
    rc = b[2];
    int ok = type <= 5 ? one_of(rc, PUBACK_CODES, sizeof PUBACK_CODES) : rc == 0 || rc == 0x92;
    uint32_t pos = 3;
    if (!ok || (len > 3 && !skip_props(b, len, &pos))) return CODE_MALFORMED_PACKET;
  }
  if (type == 6) { /* PUBREL: answer even for an unknown id (the server may retry after we lost state) */
    for (uint16_t i = 0; s != NULL && i < s->nq2; i++)
      if (s->q2[i] == pid) s->q2[i] = s->q2[--s->nq2];
    uint8_t comp[4] = {0x70, 0x02, b[0], b[1]};
    return wire_send(w, id, comp, 4, MSG_MAX_BUFFERED) != 0 ? CODE_SEND_BUFFER_FULL : 0;
  }
  struct pending p;
  if (type != 4 || !msg_take(s, pid, AW_PUBACK, &p)) return 0; /* late, unknown, or QoS 2 (never sent natively) */
  wire_emit(w, id, EV_PUBACK, pid | rc << 16, wire_now_us() - p.sent_us, p.tag);
  return 0;
}

static int on_suback(struct wire *w, uint32_t id, struct msg *s, uint8_t version, const uint8_t *b, uint32_t len) {
  if (len < 2) return CODE_MALFORMED_PACKET;
  uint16_t pid = (uint16_t)(b[0] << 8 | b[1]);
  uint32_t pos = 2;
  if (version == 5 && !skip_props(b, len, &pos)) return CODE_MALFORMED_PACKET;
  for (uint32_t i = pos; i < len; i++) {
    int ok = version == 5 ? one_of(b[i], SUBACK_CODES, sizeof SUBACK_CODES) : b[i] <= 2 || b[i] == 0x80;
    if (!ok) return CODE_MALFORMED_PACKET;
  }
  struct pending p;
  if (!msg_take(s, pid, AW_SUBACK, &p)) return 0;
  uint8_t *o = wire_blob(w, len - pos);
  if (o == NULL) return ENOMEM;
  memcpy(o, b + pos, len - pos);
  wire_emit(w, id, EV_SUBACK, pid + (double)(len - pos) * 65536, wire_now_us() - p.sent_us, (double)(o - w->blob));
  return 0;
}

int msg_packet(struct wire *w, uint32_t id, struct msg **m, uint8_t version, uint8_t first, const uint8_t *body,
               uint32_t len) {
  int type = first >> 4, code;
  if (type == 3) code = on_publish(w, id, m, version, first, body, len);
  else if (type == 9) code = on_suback(w, id, *m, version, body, len);
  else if (type == 11) {
    /* UNSUBACK: herd's devices never unsubscribe; in 3.1.1 it is exactly a packet id */
    code = len < 2 || (version != 5 && len != 2) ? CODE_MALFORMED_PACKET : 0;
  } else code = on_confirm(w, id, *m, version, (uint8_t)type, body, len);
  msg_release_in(w, *m);
  return code;
}
