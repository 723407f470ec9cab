/* setup_error.h - the "stage + errno + message" a failed step reports.
 *
 * Every fallible step of the monitor's start-up and of a container's start fills one of
 * these, so that podd can tell the user exactly what failed ("mount(overlay): ENOENT ...")
 * instead of a bare errno. It is a plain fixed-size struct so a forked child can write it
 * to its parent through a pipe in one atomic write (it is smaller than PIPE_BUF).
 */
#ifndef PODD_MONITOR_SETUP_ERROR_H
#define PODD_MONITOR_SETUP_ERROR_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

struct setup_error {
    char stage[96];    /* the step that failed, e.g. "mount(overlay)", "exec" */
    int err;           /* errno of the failed call (0 if none applies) */
    char message[384]; /* human-readable detail, already including strerror when useful */
};

/* Fill E and return -1, so call sites read `return setup_fail(e, errno, ...)`.
 * ERR is passed explicitly (callers pass errno right after the failing call) so that the
 * snprintf calls below cannot clobber it first. */
__attribute__((format(printf, 4, 5))) static inline int
setup_fail(struct setup_error *e, int err, const char *stage, const char *fmt, ...)
{
    va_list ap;
    e->err = err;
    snprintf(e->stage, sizeof e->stage, "%s", stage);
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

#endif
