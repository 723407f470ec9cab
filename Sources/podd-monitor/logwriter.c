/* logwriter.c - see logwriter.h. */
#define _GNU_SOURCE
#include "logwriter.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "journal.h"

/* Lines are gathered into one writev (prefix, text, newline per line) so that a burst of
 * short lines costs one system call, without copying them into a second buffer. */
#define BATCH_LINES 32

struct line_batch {
    struct log_file *log;
    size_t pending; /* bytes in iov */
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

void log_file_init(struct log_file *f)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

int log_file_open(struct log_file *f, const char *path, unsigned long long max_size, int max_files)
{
    struct stat st;

    log_file_init(f);
    f->path = strdup(path);
    if (f->path == NULL)
        return -1;
    f->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    if (f->fd < 0) {
        int err = errno;
        free(f->path);
        f->path = NULL;
        errno = err;
        return -1;
    }
    f->size = fstat(f->fd, &st) == 0 ? (unsigned long long)st.st_size : 0;
    f->max_size = max_size;
    f->max_files = max_files < 2 ? 2 : max_files;
    return 0;
}

void log_file_close(struct log_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    free(f->path);
    log_file_init(f);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Deletes the oldest PATH.<timestamp> files until KEEP are left. */
static void prune_rotated(const struct log_file *f, int keep)
{
    char dir[PATH_MAX], prefix[NAME_MAX + 2], **names = NULL;
    const char *slash = strrchr(f->path, '/');
    size_t count = 0, cap = 0, plen;
    struct dirent *d;
    DIR *dp;

    if (slash == NULL || (size_t)(slash - f->path) >= sizeof dir)
        return;
    memcpy(dir, f->path, (size_t)(slash - f->path));
    dir[slash - f->path] = '\0';
    snprintf(prefix, sizeof prefix, "%s.", slash + 1);
    plen = strlen(prefix);
    dp = opendir(dir[0] != '\0' ? dir : "/");
    if (dp == NULL)
        return;
    while ((d = readdir(dp)) != NULL) {
        char *copy;
        /* "YYYYMMDD-HHMMSS.ffffff" after the prefix, nothing else. */
        if (strncmp(d->d_name, prefix, plen) != 0 || strlen(d->d_name + plen) != 22 || d->d_name[plen + 8] != '-')
            continue;
        if (count == cap) {
            char **grown = realloc(names, (cap = cap ? cap * 2 : 8) * sizeof *names);
            if (grown == NULL)
                break;
            names = grown;
        }
        if ((copy = strdup(d->d_name)) == NULL)
            break;
        names[count++] = copy;
    }
    closedir(dp);
    if (count > 0)
        qsort(names, count, sizeof *names, compare_names);
    for (size_t i = 0; i < count; i++) {
        if (count - i > (size_t)keep) {
            char victim[PATH_MAX];
            if (snprintf(victim, sizeof victim, "%s/%s", dir, names[i]) < (int)sizeof victim)
                unlink(victim);
        }
        free(names[i]);
    }
    free(names);
}

/* PATH becomes PATH.<now, UTC, microseconds>, a new PATH is started, old ones are pruned.
 * On any failure the current file is kept and written to: a log a little over its limit
 * is better than lost lines. */
static void log_file_rotate(struct log_file *f)
{
    char rotated[PATH_MAX], stamp[32];
    struct timespec now;
    struct tm tm;
    long usec;
    int fd;

    clock_gettime(CLOCK_REALTIME, &now);
    usec = now.tv_nsec / 1000;
    /* Two rotations in one microsecond must not overwrite the first: take the next free one. */
    for (int attempt = 0; attempt < 1000; attempt++, usec++) {
        if (usec >= 1000000) {
            usec = 0;
            now.tv_sec++;
        }
        gmtime_r(&now.tv_sec, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        if (snprintf(rotated, sizeof rotated, "%s.%s.%06ld", f->path, stamp, usec) >= (int)sizeof rotated)
            return;
        if (access(rotated, F_OK) < 0 && errno == ENOENT)
            break;
    }
    fd = open(f->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return;
    close(fd);
    if (rename(f->path, rotated) < 0)
        return;
    fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0)
        return; /* keep writing to the renamed file */
    close(f->fd);
    f->fd = fd;
    f->size = 0;
    prune_rotated(f, f->max_files - 1);
}

static void batch_begin(struct line_batch *b, struct log_file *log, const struct log_stream *s)
{
    const char *stream = s->name;
    struct timespec now;
    char ts[32];

    /* One timestamp per read: the lines of one read arrived together. */
    clock_gettime(CLOCK_REALTIME, &now);
    cri_timestamp(ts, &now);
    b->log = log;
    b->stream = s;
    b->iovcnt = 0;
    b->pending = 0;
    snprintf(b->prefix_full, sizeof b->prefix_full, "%s %s F ", ts, stream);
    snprintf(b->prefix_partial, sizeof b->prefix_partial, "%s %s P ", ts, stream);
}

static void batch_flush(struct line_batch *b)
{
    /* The log is opened O_APPEND, so each writev lands whole at the end of the file. A
     * failed or short write (disk full) loses log lines but must not stop the monitor. */
    if (b->iovcnt > 0 && b->log->fd >= 0) {
        ssize_t n = writev(b->log->fd, b->iov, b->iovcnt);
        if (n > 0)
            b->log->size += (unsigned long long)n;
    }
    b->iovcnt = 0;
    b->pending = 0;
}

static void batch_line(struct line_batch *b, const char *text, size_t len, int partial)
{
    static char newline[] = "\n";
    char *prefix = partial ? b->prefix_partial : b->prefix_full;
    size_t prefix_len = strlen(prefix), line = prefix_len + len + 1;
    struct log_file *log = b->log;

    if (b->stream->journal != NULL)
        journal_send(b->stream->journal, b->stream->priority, text, len);
    if (b->iovcnt + 3 > (int)(sizeof b->iov / sizeof b->iov[0]))
        batch_flush(b);
    /* Rotate before the line that would take the file past its limit (never an empty file:
     * a line longer than the limit goes whole into a file of its own). */
    if (log->fd >= 0 && log->max_size > 0 && log->size + b->pending > 0 &&
        log->size + b->pending + line > log->max_size) {
        batch_flush(b);
        log_file_rotate(log);
    }
    b->iov[b->iovcnt++] = (struct iovec){prefix, prefix_len};
    b->iov[b->iovcnt++] = (struct iovec){(void *)text, len};
    b->iov[b->iovcnt++] = (struct iovec){newline, 1};
    b->pending += line;
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

enum log_read log_stream_read(struct log_stream *s, struct log_file *log)
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

    batch_begin(&b, log, s);
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

void log_stream_drain(struct log_stream *s, struct log_file *log)
{
    while (log_stream_read(s, log) == LOG_READ_DATA)
        ;
}

void log_stream_close(struct log_stream *s, struct log_file *log)
{
    if (s->fd < 0)
        return;
    if (s->len > 0) {
        struct line_batch b;
        batch_begin(&b, log, s);
        batch_line(&b, s->buf, s->len, 0);
        batch_flush(&b);
    }
    close(s->fd);
    free(s->buf);
    s->fd = -1;
    s->buf = NULL;
    s->len = 0;
}
