/* protocol.c - see protocol.h. */
#include "protocol.h"

#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int msg_decode(char *buf, size_t len, struct msg *out, char *err, size_t errlen)
{
    size_t n = 0, i = 0;
    char *p, *end = buf + len;

    out->fields = NULL;
    out->count = 0;
    /* A sender that forgets the last NUL still gets its last field read. */
    buf[len] = '\0';
    for (p = buf; p < end; p += strlen(p) + 1)
        if (*p != '\0')
            n++;
    if (n == 0) {
        snprintf(err, errlen, "empty message");
        return -1;
    }
    out->fields = calloc(n, sizeof *out->fields);
    if (out->fields == NULL) {
        snprintf(err, errlen, "out of memory decoding %zu fields", n);
        return -1;
    }
    for (p = buf; p < end;) {
        size_t flen = strlen(p);
        char *next = p + flen + 1; /* computed before the '=' below is overwritten */
        char *eq;
        if (flen == 0) { /* tolerate doubled NULs: they carry nothing */
            p = next;
            continue;
        }
        eq = strchr(p, '=');
        if (eq == NULL || eq == p) {
            snprintf(err, errlen, "field %zu is not key=value: \"%.64s\"", i, p);
            msg_free(out);
            return -1;
        }
        *eq = '\0';
        out->fields[i].key = p;
        out->fields[i].value = eq + 1;
        i++;
        p = next;
    }
    out->count = i;
    if (strcmp(out->fields[0].key, "op") != 0) {
        snprintf(err, errlen, "first field is \"%s\", not \"op\"", out->fields[0].key);
        msg_free(out);
        return -1;
    }
    return 0;
}

void msg_free(struct msg *m)
{
    free(m->fields);
    m->fields = NULL;
    m->count = 0;
}

const char *msg_get(const struct msg *m, const char *key)
{
    for (size_t i = 0; i < m->count; i++)
        if (strcmp(m->fields[i].key, key) == 0)
            return m->fields[i].value;
    return NULL;
}

void msg_begin(struct msg_out *m, const char *op)
{
    m->len = 0;
    m->truncated = 0;
    msg_add(m, "op", op);
}

void msg_add(struct msg_out *m, const char *key, const char *value)
{
    size_t klen = strlen(key), vlen = strlen(value);
    size_t room = sizeof m->buf - m->len;

    if (klen + 1 + vlen + 1 > room) {
        /* Cut an over-long value rather than drop the field, so an error still says
         * something; if even the key does not fit, drop it. */
        if (klen + 2 + 16 > room) {
            m->truncated = 1;
            return;
        }
        vlen = room - klen - 2;
        m->truncated = 1;
    }
    memcpy(m->buf + m->len, key, klen);
    m->buf[m->len + klen] = '=';
    memcpy(m->buf + m->len + klen + 1, value, vlen);
    m->buf[m->len + klen + 1 + vlen] = '\0';
    m->len += klen + 1 + vlen + 1;
}

void msg_addf(struct msg_out *m, const char *key, const char *fmt, ...)
{
    char value[MSG_OUT_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    msg_add(m, key, value);
}

int msg_fds_take(struct msg_fds *f, int index)
{
    int fd;
    if (index < 0 || index >= f->count)
        return -1;
    fd = f->fd[index];
    f->fd[index] = -1;
    return fd;
}

void msg_fds_close(struct msg_fds *f)
{
    for (int i = 0; i < f->count; i++)
        if (f->fd[i] >= 0)
            close(f->fd[i]);
    f->count = 0;
}

long msg_send_fds(int fd, const struct msg_out *m, const int *fds, int nfds)
{
    struct iovec iov = {.iov_base = (void *)m->buf, .iov_len = m->len};
    struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
    char control[CMSG_SPACE(sizeof(int) * MSG_FDS_MAX)];

    if (nfds > MSG_FDS_MAX)
        nfds = MSG_FDS_MAX;
    if (nfds > 0) {
        struct cmsghdr *c;
        memset(control, 0, sizeof control);
        hdr.msg_control = control;
        hdr.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        c = CMSG_FIRSTHDR(&hdr);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    return (long)sendmsg(fd, &hdr, MSG_NOSIGNAL | MSG_DONTWAIT);
}
