/* protocol.h - encoding and decoding of monitor protocol messages.
 *
 * A message is one SOCK_SEQPACKET datagram holding NUL-terminated "key=value" fields, the
 * first being "op=..." (docs/monitor-protocol.md). Decoding works in place on a received
 * buffer; encoding appends to a fixed buffer on the caller's stack, since every message
 * the monitor sends is small.
 */
#ifndef PODD_MONITOR_PROTOCOL_H
#define PODD_MONITOR_PROTOCOL_H

#include <stddef.h>

/* Largest datagram the monitor accepts: a spawn with a big environment fits easily, and a
 * bound keeps a confused peer from making the monitor allocate without limit. */
#define MSG_IN_MAX (1024 * 1024)
/* Outgoing messages are a handful of short fields; longer error texts are cut. */
#define MSG_OUT_MAX 2048

struct msg_field {
    const char *key;
    const char *value;
};

/* A decoded message. Fields point into the buffer given to msg_decode. */
struct msg {
    struct msg_field *fields;
    size_t count;
};

/* Decode BUF (LEN bytes; BUF[LEN] must be writable and is set to NUL) in place. On error,
 * returns -1 with a reason in ERR. Free with msg_free. */
int msg_decode(char *buf, size_t len, struct msg *out, char *err, size_t errlen);
void msg_free(struct msg *m);
/* First value of KEY, or NULL. */
const char *msg_get(const struct msg *m, const char *key);

struct msg_out {
    size_t len;
    int truncated; /* a field did not fit and was dropped */
    char buf[MSG_OUT_MAX];
};

void msg_begin(struct msg_out *m, const char *op);
void msg_add(struct msg_out *m, const char *key, const char *value);
__attribute__((format(printf, 3, 4))) void msg_addf(struct msg_out *m, const char *key,
                                                    const char *fmt, ...);

#endif
