/* seccomp.h - the system calls a container may make, compiled with libseccomp.
 *
 * Three kinds, as Kubernetes names them:
 *   RuntimeDefault  containerd's default profile (contrib/seccomp/seccomp_default.go): an
 *                   allowlist, EPERM for the rest; a few calls allowed only when the
 *                   container's bounding set holds the capability they need (SYS_TIME:
 *                   settimeofday, clock_settime; SYS_ADMIN: mount, unshare, setns, clone
 *                   with namespace flags, ...); without SYS_ADMIN, clone3 answers ENOSYS so
 *                   that libc falls back to clone, whose flags the filter can read.
 *   Unconfined      no filter.
 *   Localhost       a profile podd read from its profiles dir (OCI/Docker JSON) and sent as
 *                   a default action, architectures and one rule per line (spawn_spec.h).
 */
#ifndef PODD_MONITOR_SECCOMP_H
#define PODD_MONITOR_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include <linux/filter.h>

#include "setup_error.h"

enum seccomp_mode { SECCOMP_RUNTIME_DEFAULT = 0, SECCOMP_UNCONFINED, SECCOMP_PROFILE };

struct seccomp_spec {
    enum seccomp_mode mode;
    /* SECCOMP_PROFILE: "allow", "errno[:N]", "kill", "kill_process", "trap", "log" */
    const char *default_action;
    const char **archs; /* extra architectures: "x86", "x32", ... */
    size_t arch_count;
    /* "ACTION NAME [INDEX:OP:VALUE[:VALUE2]]..." with OP one of ne lt le eq ge gt masked_eq */
    const char **rules;
    size_t rule_count;
};

/* Check a rule's or action's syntax (spawn_spec_parse refuses bad ones before forking). */
int seccomp_rule_valid(const char *rule);
int seccomp_action_valid(const char *action);

/* A compiled filter: LEN instructions (0: none, Unconfined). */
struct seccomp_program {
    struct sock_filter *filter;
    unsigned short len;
    int cached; /* owned by the monitor's cache: not freed by seccomp_program_release */
};

/* Compile the filter SPEC asks for, in the monitor before it forks (compiling takes
 * libseccomp milliseconds, installing a compiled program microseconds). CAPS is the
 * container's bounding set (RuntimeDefault allows more with more capabilities); a
 * RuntimeDefault program is kept per set, so the pod's later containers and execs reuse it.
 * Returns 0 or -1 with E filled (stage "seccomp"). */
int seccomp_prepare(const struct seccomp_spec *spec, uint64_t caps, struct seccomp_program *out,
                    struct setup_error *e);
void seccomp_program_release(struct seccomp_program *p);

/* A directory (podd's run dir, root's alone) where compiled RuntimeDefault programs are kept
 * for every monitor: each pod has a monitor of its own, and without it each would compile
 * the same filter again. NULL: none. */
void seccomp_set_cache_dir(const char *dir);

/* Install PROG on the calling process (inherited across fork and exec). Without
 * no_new_privs set, the caller must still hold CAP_SYS_ADMIN. */
int seccomp_apply(const struct seccomp_program *prog, struct setup_error *e);

#endif
