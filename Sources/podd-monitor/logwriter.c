/* logwriter.c - see logwriter.h. */
#define _GNU_SOURCE
#include "logwriter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "journal.h"

/* Lines are gathered into one writev (prefix, text, newline per line) so that a burst of
 * short lines costs one system call, without copying them into a second buffer. */
#define BATCH_LINES 32

struct line_batch {
    int logfd;
    const struct log_stream *stream;
    char prefix_full[48];    /* "TIMESTAMP stdout F " */
    char prefix_partial[48]; /* "TIMESTAMP stdout P " */
    int iovcnt;
    struct iovec iov[BATCH_LINES * 3];
};

void cri_timestamp(char out[32], const struct timespec *ts)
{
    struct tm tm;
    size_t n;

    gmtime_r(&ts->tv_sec, &tm);
    n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    /* Always nine digits: fixed width keeps lines aligned and sortable as text. */
    snprintf(out + n, 32 - n, ".%09uZ", (unsigned)(ts->tv_nsec % 1000000000));
}

static void batch_begin(struct line_batch *b, int logfd, const struct log_stream *s)
{
    const char *stream = s->name;
    struct timespec now;
    char ts[32];

    /* One timestamp per read: the lines of one read arrived together. */
    clock_gettime(CLOCK_REALTIME, &now);
    cri_timestamp(ts, &now);
    b->logfd = logfd;
    b->stream = s;
    b->iovcnt = 0;
    snprintf(b->prefix_full, sizeof b->prefix_full, "%s %s F ", ts, stream);
    snprintf(b->prefix_partial, sizeof b->prefix_partial, "%s %s P ", ts, stream);
}

static void batch_flush(struct line_batch *b)
{
    /* The log is opened O_APPEND, so each writev lands whole at the end of the file. A
     * failed or short write (disk full) loses log lines but must not stop the monitor. */
    if (b->iovcnt > 0 && b->logfd >= 0) {
        ssize_t n = writev(b->logfd, b->iov, b->iovcnt);
        (void)n;
    }
    b->iovcnt = 0;
}

static void batch_line(struct line_batch *b, const char *text, size_t len, int partial)
{
    static char newline[] = "\n";
    char *prefix = partial ? b->prefix_partial : b->prefix_full;

    if (b->stream->journal != NULL)
        journal_send(b->stream->journal, b->stream->priority, text, len);
    if (b->iovcnt + 3 > (int)(sizeof b->iov / sizeof b->iov[0]))
        batch_flush(b);
    b->iov[b->iovcnt++] = (struct iovec){prefix, strlen(prefix)};
    b->iov[b->iovcnt++] = (struct iovec){(void *)text, len};
    b->iov[b->iovcnt++] = (struct iovec){newline, 1};
}

int log_stream_open(struct log_stream *s, int fd, const char *name)
{
    s->buf = malloc(LOG_LINE_MAX);
    if (s->buf == NULL)
        return -1;
    s->fd = fd;
    s->name = name;
    s->len = 0;
    return 0;
}

enum log_read log_stream_read(struct log_stream *s, int logfd)
{
    struct line_batch b;
    size_t start = 0;
    ssize_t n;

    if (s->fd < 0)
        return LOG_READ_EOF;
    n = read(s->fd, s->buf + s->len, LOG_LINE_MAX - s->len);
    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? LOG_READ_EMPTY : LOG_READ_EOF;
    if (n == 0)
        return LOG_READ_EOF;
    if (s->tee != NULL)
        s->tee(s->tee_ctx, s, s->buf + s->len, (size_t)n);
    s->len += (size_t)n;

    batch_begin(&b, logfd, s);
    for (;;) {
        char *nl = memchr(s->buf + start, '\n', s->len - start);
        if (nl == NULL)
            break;
        batch_line(&b, s->buf + start, (size_t)(nl - (s->buf + start)), 0);
        start = (size_t)(nl - s->buf) + 1;
    }
    if (start == 0 && s->len == LOG_LINE_MAX) {
        /* A full buffer without a newline: the line is longer than CRI's piece size. */
        batch_line(&b, s->buf, s->len, 1);
        start = s->len;
    }
    batch_flush(&b);
    /* Keep the unfinished tail for the next read. */
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
    return LOG_READ_DATA;
}

void log_stream_drain(struct log_stream *s, int logfd)
{
    while (log_stream_read(s, logfd) == LOG_READ_DATA)
        ;
}

void log_stream_close(struct log_stream *s, int logfd)
{
    if (s->fd < 0)
        return;
    if (s->len > 0) {
        struct line_batch b;
        batch_begin(&b, logfd, s);
        batch_line(&b, s->buf, s->len, 0);
        batch_flush(&b);
    }
    close(s->fd);
    free(s->buf);
    s->fd = -1;
    s->buf = NULL;
    s->len = 0;
}
