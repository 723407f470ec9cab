/* logwriter.h - a container's stdout or stderr pipe, turned into CRI log lines.
 *
 * CRI format (what kubelet and `kubectl logs` read):
 *     2026-11-25T14:11:12.123456789Z stdout F a whole line
 *     2026-11-25T14:11:12.123456789Z stderr P first 16 KiB of a longer line
 * Output is cut at newlines; a line longer than LOG_LINE_MAX is written in LOG_LINE_MAX
 * pieces tagged P and a final piece tagged F; bytes left without a newline at EOF are F.
 */
#ifndef PODD_MONITOR_LOGWRITER_H
#define PODD_MONITOR_LOGWRITER_H

#include <stddef.h>
#include <time.h>

struct journal_sink;

/* Both the line-length limit and the per-stream buffer: the memory a stream costs. */
#define LOG_LINE_MAX 16384

struct log_stream {
    int fd;           /* non-blocking read end of the pipe; -1 when closed */
    const char *name; /* "stdout" or "stderr", as CRI spells it */
    size_t len;       /* bytes of an unfinished line at the start of buf */
    char *buf;        /* LOG_LINE_MAX bytes, allocated only while the stream is open */
    const struct journal_sink *journal; /* lines also go to the journal, or NULL (not owned) */
    int priority;     /* their journal PRIORITY: 6 for stdout, 3 for stderr */
    /* Sees every byte read, before it is cut into lines (attach sessions), or NULL. */
    void (*tee)(void *ctx, const struct log_stream *s, const char *data, size_t len);
    void *tee_ctx;
};

/* Take ownership of FD. Returns -1 (and leaves FD open) if the buffer cannot be had. */
int log_stream_open(struct log_stream *s, int fd, const char *name);

enum log_read {
    LOG_READ_DATA,  /* read something; there may be more */
    LOG_READ_EMPTY, /* nothing to read now */
    LOG_READ_EOF,   /* the writer side is closed (or the pipe failed): close the stream */
};

/* One read() from the pipe, writing every complete line to LOGFD (-1 to discard). */
enum log_read log_stream_read(struct log_stream *s, int logfd);

/* Read until the pipe is empty or closed: what a container wrote before it ended. */
void log_stream_drain(struct log_stream *s, int logfd);

/* Write what is still buffered as a final F line, close the pipe and free the buffer. */
void log_stream_close(struct log_stream *s, int logfd);

/* RFC 3339 UTC with nanoseconds, "2026-11-25T14:11:12.123456789Z": 30 chars + NUL. */
void cri_timestamp(char out[32], const struct timespec *ts);

#endif
