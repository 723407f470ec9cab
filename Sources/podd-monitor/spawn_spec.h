/* spawn_spec.h - what an op=spawn message asks for, decoded and checked.
 *
 * The monitor validates everything here, before it forks, so that a bad request becomes a
 * clear op=failed and the child never has to interpret text.
 */
#ifndef PODD_MONITOR_SPAWN_SPEC_H
#define PODD_MONITOR_SPAWN_SPEC_H

#include <stddef.h>

#include "protocol.h"

/* Kubernetes container names are DNS-1123 labels: at most 63 characters. */
#define CONTAINER_NAME_MAX 63

enum pidns_mode {
    PIDNS_DEFAULT,   /* not given: the pod's namespace if it has one, else a new one */
    PIDNS_POD,       /* the pod's shared PID namespace (monitor started with --share-pid) */
    PIDNS_OWN,       /* a new PID namespace, the workload is its PID 1 */
    PIDNS_CONTAINER, /* the PID namespace of another running container (ephemeral target) */
};

enum mount_type { MOUNT_BIND, MOUNT_TMPFS };

struct mount_spec {
    enum mount_type type;
    const char *source; /* host path (bind) */
    const char *target; /* absolute path inside the container */
    int readonly;
    unsigned long long size; /* tmpfs size in bytes, 0 = kernel default */
    const char *subpath;     /* bind only: a path beneath source to bind instead, or NULL */
};

/* All strings point into the decoded message, which must outlive the spec. */
struct spawn_spec {
    const char *name;
    const char *lower, *upper, *work, *merged; /* overlay layers and mount point */
    enum pidns_mode pidns;
    const char *pidns_target; /* container name for PIDNS_CONTAINER */
    struct mount_spec *mounts;
    size_t mount_count;
    char **argv; /* NULL-terminated, at least one element */
    char **envp; /* NULL-terminated */
    const char *cwd; /* "/" when not given */
    const char *log; /* CRI log file, NULL to discard output */
    unsigned long long log_max_size; /* log.maxSize: rotate past this many bytes; 0 never */
    int log_max_files;               /* log.maxFiles: files kept per run, current included */
    int stdin_open;  /* stdin=1: stdin is a pipe the monitor holds open (for attach) */
    int stdin_once;  /* stdinOnce=1: closed when the first attach session that wrote ends */
    int tty;         /* tty=1: stdin/stdout/stderr are a terminal of the container's devpts */
};

/* Decode an op=spawn message into SPEC. On error returns -1 with a reason in ERR. */
int spawn_spec_parse(const struct msg *m, struct spawn_spec *spec, char *err, size_t errlen);
void spawn_spec_free(struct spawn_spec *spec);

#endif
