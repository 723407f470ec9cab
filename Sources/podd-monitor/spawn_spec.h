/* spawn_spec.h - what an op=spawn message asks for, decoded and checked.
 *
 * The monitor validates everything here, before it forks, so that a bad request becomes a
 * clear op=failed and the child never has to interpret text.
 */
#ifndef PODD_MONITOR_SPAWN_SPEC_H
#define PODD_MONITOR_SPAWN_SPEC_H

#include <stddef.h>

#include <stdint.h>
#include <sys/types.h>

#include "protocol.h"
#include "seccomp.h"

/* Kubernetes container names are DNS-1123 labels: at most 63 characters. */
#define CONTAINER_NAME_MAX 63

enum pidns_mode {
    PIDNS_DEFAULT,   /* not given: the pod's namespace if it has one, else a new one */
    PIDNS_POD,       /* the pod's shared PID namespace (monitor started with --share-pid) */
    PIDNS_OWN,       /* a new PID namespace, the workload is its PID 1 */
    PIDNS_CONTAINER, /* the PID namespace of another running container (ephemeral target) */
    PIDNS_HOST,      /* the monitor's own: the host's, for hostPID pods */
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

/* A container's securityContext, as podd resolved it: the monitor does not interpret
 * Kubernetes. All zero: root, the runtime's default capabilities and seccomp filter. Strings
 * point into the decoded message. */
struct security_spec {
    uid_t uid;          /* user=UID, default 0 */
    gid_t gid;          /* group=GID, default 0 */
    gid_t *groups;      /* groups=G1,G2,... supplementary groups */
    size_t group_count;
    int caps_given;     /* caps=MASK given: the bounding set; else the runtime default */
    uint64_t caps;
    int privileged;     /* privileged=1: every capability and device, nothing masked */
    int no_new_privs;   /* noNewPrivs=1 */
    int readonly_root;  /* readOnlyRoot=1: the image's root mounted read-only */
    int proc_unmasked;  /* procMount=unmasked: no masked or read-only /proc paths */
    int oom_score_adj_given; /* oomScoreAdj=N (-1000..1000): the process's oom_score_adj */
    int oom_score_adj;
    struct seccomp_spec seccomp; /* seccomp=runtime-default|unconfined|profile, seccomp.* */
};

/* If K is a security key, decode V into S and return 1 (or -1 with ERR filled when V is
 * bad); 0 when K is not one. Used by op=spawn and op=exec (an exec runs as its container). */
int security_spec_key(struct security_spec *s, const char *k, const char *v, char *err, size_t errlen);
void security_spec_free(struct security_spec *s);

/* All strings point into the decoded message, which must outlive the spec. */
#define MAX_CGROUP_SETS 16

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
    int hold;        /* hold=1: set up, then wait for op=release before exec (podd's next step) */
    const char *after; /* after=NAME (with hold=1): released by the monitor itself when NAME
                          exits 0 unsignalled (a chained start, pod.c), or NULL */
    struct security_spec security; /* the securityContext keys */
    /* cgroup.set: control files of the container's v2 group and their values (limits) */
    struct cgroup_setting { const char *file, *value; } cgroup_sets[MAX_CGROUP_SETS];
    size_t cgroup_set_count;
};

/* Decode an op=spawn message into SPEC. On error returns -1 with a reason in ERR. */
int spawn_spec_parse(const struct msg *m, struct spawn_spec *spec, char *err, size_t errlen);
void spawn_spec_free(struct spawn_spec *spec);

#endif
