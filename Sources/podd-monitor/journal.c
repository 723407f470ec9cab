/* journal.c - see journal.h. */
#define _GNU_SOURCE
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct journal_sink {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    size_t len;    /* of header */
    char header[]; /* the spawn's fields, each "KEY=VALUE\n" */
};

/* One datagram socket for the whole monitor, connected to the path of the last sink used:
 * a pod's containers all forward to the same journald. */
static int journal_fd = -1;
static char journal_connected_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
/* After a failed connect (no journald), wait a second before the next try, so that a
 * chatty container without a journal costs no connect() per line. */
static time_t journal_retry_after;

static time_t monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

int journal_field_valid(const char *value)
{
    const char *eq = strchr(value, '=');
    if (eq == NULL || eq == value || value[0] == '_' || eq - value > 64)
        return 0;
    for (const char *p = value; p < eq; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return strchr(eq, '\n') == NULL;
}

struct journal_sink *journal_sink_new(const struct msg *spawn)
{
    const char *path = msg_get(spawn, "journal");
    struct journal_sink *s;
    size_t len = 0;

    if (path == NULL || path[0] != '/' || strlen(path) >= sizeof s->path)
        return NULL;
    for (size_t i = 1; i < spawn->count; i++)
        if (strcmp(spawn->fields[i].key, "journal.field") == 0)
            len += strlen(spawn->fields[i].value) + 1;
    s = malloc(sizeof *s + len + 1);
    if (s == NULL)
        return NULL;
    strcpy(s->path, path);
    s->len = 0;
    for (size_t i = 1; i < spawn->count; i++) {
        if (strcmp(spawn->fields[i].key, "journal.field") != 0)
            continue;
        size_t n = strlen(spawn->fields[i].value);
        memcpy(s->header + s->len, spawn->fields[i].value, n);
        s->len += n;
        s->header[s->len++] = '\n';
    }
    s->header[s->len] = '\0';
    return s;
}

void journal_sink_free(struct journal_sink *s)
{
    free(s);
}

static int journal_connect(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;

    if (monotonic_seconds() < journal_retry_after)
        return -1;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    strcpy(addr.sun_path, path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        close(fd);
        journal_retry_after = monotonic_seconds() + 1;
        return -1;
    }
    journal_fd = fd;
    strcpy(journal_connected_path, path);
    return 0;
}

void journal_send(const struct journal_sink *s, int priority, const char *text, size_t len)
{
    char prio[32];
    uint64_t size = (uint64_t)len;
    unsigned char le[8];
    struct iovec iov[6];
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 6};

    if (s == NULL)
        return;
    /* MESSAGE in the binary form (name, newline, 64-bit little-endian size, data): a line
     * may hold any byte, and this way no byte of it is ever read as framing. */
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(size >> (8 * i));
    iov[0] = (struct iovec){(void *)s->header, s->len};
    iov[1] = (struct iovec){prio, (size_t)snprintf(prio, sizeof prio, "PRIORITY=%d\n", priority)};
    iov[2] = (struct iovec){"MESSAGE\n", 8};
    iov[3] = (struct iovec){le, sizeof le};
    iov[4] = (struct iovec){(void *)text, len};
    iov[5] = (struct iovec){"\n", 1};

    if (journal_fd >= 0 && strcmp(journal_connected_path, s->path) != 0) {
        close(journal_fd);
        journal_fd = -1;
    }
    /* Two tries: the connection goes stale when journald restarts (ECONNREFUSED), and one
     * reconnect picks up the new socket. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (journal_fd < 0 && journal_connect(s->path) < 0)
            return;
        if (sendmsg(journal_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
            return;
        if (errno == EAGAIN || errno == ENOBUFS || errno == EMSGSIZE || errno == EINTR)
            return; /* journald is behind: the line stays in the CRI log only */
        close(journal_fd);
        journal_fd = -1;
    }
}
