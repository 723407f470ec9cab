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

/* Descriptors that came with a message (SCM_RIGHTS), in the order the sender gave them.
 * A handler takes the ones it keeps (msg_fds_take); the rest are closed after it. */
#define MSG_FDS_MAX 8
struct msg_fds {
    int fd[MSG_FDS_MAX];
    int count;
};

/* The descriptor at INDEX, now the caller's to close; -1 if there is none. */
int msg_fds_take(struct msg_fds *f, int index);
/* Close every descriptor not taken. */
void msg_fds_close(struct msg_fds *f);

/* Send M on FD with descriptors FDS (NFDS of them, 0 for none), without blocking and
 * without SIGPIPE. Returns what sendmsg returns. */
long msg_send_fds(int fd, const struct msg_out *m, const int *fds, int nfds);

#endif
