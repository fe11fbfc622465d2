/*
 * Messaging on a held native connection (MQTT 3.1.1 and 5): PUBLISH at QoS 0 and 1 framed here
 * from the topic and payload JavaScript hands over, SUBSCRIBE, packet ids and the in-flight cap,
 * PUBACK / SUBACK matching, and inbound PUBLISH (answered with PUBACK at QoS 1, PUBREC/PUBCOMP at
 * QoS 2) handed to JavaScript whole. A connection that never publishes, subscribes or receives
 * costs nothing here; one that does holds a small record, its in-flight entries (16 bytes each,
 * grown to the cap on demand) and, only while one arrives in pieces, one inbound packet
 * (≤ maxPacketBytes). The rules a packet must follow are those of the JavaScript path's decoder
 * (mqtt-packet, src/protocols/mqtt/messaging.ts); a packet that breaks them ends the session as
 * MQTT_MALFORMED_PACKET, as there.
 */
#ifndef HERD_MSG_H
#define HERD_MSG_H
#include <stdint.h>

struct wire;
struct msg;

/* In-flight cap (the JS path's default maxInflight) and send-buffer cap (its maxBufferedBytes). */
#define MSG_MAX_INFLIGHT 64
#define MSG_MAX_BUFFERED (256 * 1024)

/* Whether a packet of this first byte is one messaging reads whole (PUBLISH … UNSUBACK, AUTH). */
int msg_wants(uint8_t first);
/*
 * A whole packet (first byte, body) on held connection `id`; `*m` is its state (NULL until needed).
 * Returns 0, or the outcome code that ends the connection (CODE_MALFORMED_PACKET, …).
 */
int msg_packet(struct wire *w, uint32_t id, struct msg **m, uint8_t version, uint8_t first, const uint8_t *body,
               uint32_t len);
/* An accepted MQTT 5 CONNACK's Receive Maximum lowers the in-flight cap (0: none given). */
void msg_connack(struct wire *w, struct msg **m, uint16_t recv_max);
/*
 * Gathers a packet body that arrives in pieces: `n` more bytes of a body of `rem`. Returns the
 * whole body once complete (valid until the next call), NULL while incomplete; *err on ENOMEM.
 */
const uint8_t *msg_gather(struct wire *w, struct msg **m, uint32_t rem, const uint8_t *b, uint32_t n, int *err);
/* PUBLISH: 0 (QoS 0), the packet id (QoS 1), or -1 when refused (in-flight cap, send buffer, QoS 2). */
int msg_publish(struct wire *w, uint32_t id, struct msg **m, uint8_t version, const uint8_t *topic, uint32_t tlen,
                const uint8_t *payload, uint32_t plen, uint8_t qos, uint8_t retain, uint8_t dup, uint32_t tag);
/* SUBSCRIBE to `n` topics at `qos`: the packet id, or -1 when refused. */
int msg_subscribe(struct wire *w, uint32_t id, struct msg **m, uint8_t version, const uint8_t *const *topics,
                  const uint32_t *tlens, uint32_t n, uint8_t qos);
/* Bytes held for a partial inbound packet (a connection's bufferedBytes, as on the JavaScript path). */
uint32_t msg_partial_bytes(const struct msg *m);
/* Bytes the state holds (record, in-flight entries, a partial inbound packet). */
uint32_t msg_bytes(const struct msg *m);
void msg_free(struct wire *w, struct msg *m);
#endif
