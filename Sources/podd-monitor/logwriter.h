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
#include <sys/types.h>
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

/* A container run's CRI log file, rotated as kubelet rotates it (containerLogMaxSize,
 * containerLogMaxFiles): before a line would take PATH past MAX_SIZE bytes, PATH is renamed
 * to PATH.YYYYMMDD-HHMMSS.ffffff (UTC: name order is time order) and a new PATH started, and
 * the oldest rotated files are deleted so that at most MAX_FILES files of the run remain,
 * PATH included. A single line longer than MAX_SIZE still goes whole into one file. */
struct log_file {
    int fd;                       /* O_APPEND; -1 when closed or not asked for */
    char *path;                   /* allocated */
    unsigned long long size;      /* bytes in the current file */
    unsigned long long max_size;  /* 0: never rotate */
    int max_files;                /* at least 2 when max_size is set */
};

/* An unopened log (fd -1): output is discarded. */
void log_file_init(struct log_file *f);

/* Open (create, append to) PATH. Returns 0, or -1 with errno. */
int log_file_open(struct log_file *f, const char *path, unsigned long long max_size, int max_files);

void log_file_close(struct log_file *f);

/* Take ownership of FD. Returns -1 (and leaves FD open) if the buffer cannot be had. */
int log_stream_open(struct log_stream *s, int fd, const char *name);

enum log_read {
    LOG_READ_DATA,  /* read something; there may be more */
    LOG_READ_EMPTY, /* nothing to read now */
    LOG_READ_EOF,   /* the writer side is closed (or the pipe failed): close the stream */
};

/* One read() from the pipe, writing every complete line to LOG (whose fd may be -1: then
 * lines are discarded). */
enum log_read log_stream_read(struct log_stream *s, struct log_file *log);

/* Read until the pipe is empty or closed: what a container wrote before it ended. */
void log_stream_drain(struct log_stream *s, struct log_file *log);

/* Write what is still buffered as a final F line, close the pipe and free the buffer. */
void log_stream_close(struct log_stream *s, struct log_file *log);

/* RFC 3339 UTC with nanoseconds, "2026-11-25T14:11:12.123456789Z": 30 chars + NUL. */
void cri_timestamp(char out[32], const struct timespec *ts);

#endif
