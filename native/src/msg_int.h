/*
 * What msg.c (state, outbound) and msg_in.c (inbound packets) share; see msg.h. Not for wire.c.
 */
#ifndef HERD_MSG_INT_H
#define HERD_MSG_INT_H
#include <stdint.h>

struct wire;

enum { AW_PUBACK = 1, AW_SUBACK = 4 };

struct pending {
  uint16_t pid;
  uint8_t awaiting, pad;
  uint32_t tag;
  double sent_us;
};

struct msg {
  uint16_t next_id, max, n, cap; /* next packet id, in-flight cap, entries used, entries allocated */
  struct pending *p;
  uint8_t *in; /* a packet body arriving in pieces, while one does */
  uint32_t in_len, in_cap;
  uint16_t *q2; /* inbound QoS 2 ids awaiting PUBREL (≤ max), once a server sent one */
  uint16_t nq2, pad;
};

/* The connection's state, made on first use (NULL on ENOMEM). */
struct msg *msg_state(struct wire *w, struct msg **m);
/* The entry for `pid` awaiting `awaiting`, taken out; 0 when nothing waits for it. */
int msg_take(struct msg *s, uint16_t pid, uint8_t awaiting, struct pending *out);
/* Frees a gathered body once its packet was handled. */
void msg_release_in(struct wire *w, struct msg *s);
#endif
