/* exec.h - run a command in a running container (op=exec): kubectl exec, and the shell of
 * an exec session with a terminal.
 *
 * The process joins the container's PID namespace, mount namespace (so its root, /proc and
 * volumes are the container's) and cgroup, with the container's capabilities; the pod's
 * network, IPC and UTS namespaces it shares with the monitor already. It is a child of the
 * monitor, which reaps it and reports its exit, never of podd or of an API connection.
 */
#ifndef PODD_MONITOR_EXEC_H
#define PODD_MONITOR_EXEC_H

#include <sys/types.h>

#include "protocol.h"
#include "setup_error.h"
#include "spawn_spec.h"

struct exec_spec {
    const char *id;        /* podd's session id, echoed in replies */
    const char *container; /* the container to run in */
    int tty;               /* a terminal of the container's devpts instead of podd's pipes */
    char **argv;           /* NULL-terminated, at least one element */
    char **envp;           /* NULL-terminated */
    const char *cwd;       /* "/" when not given */
    struct security_spec security; /* the container's (podd sends its spawn's keys again) */
};

/* Decode an op=exec message. On error returns -1 with a reason in ERR. All strings point
 * into the message. */
int exec_spec_parse(const struct msg *m, struct exec_spec *spec, char *err, size_t errlen);
void exec_spec_free(struct exec_spec *spec);

/* Where the command runs. */
struct exec_target {
    pid_t hostpid;          /* the container's main process, for /proc/HOSTPID/{ns,root} */
    const char *cgroup_dir; /* the container's cgroup, or NULL */
    const char *devices_v1_dir; /* without cgroup_dir: the pod's v1 devices group, or NULL */
    int userns_fd;          /* hostUsers: false: the pod's user namespace, else -1 */
};

struct exec_result {
    pid_t pid;     /* in the monitor's PID namespace: for waitpid and kill */
    pid_t hostpid; /* in podd's */
    int master;    /* tty: the pty's master (non-blocking), else -1 */
    struct setup_error error;
};

/* Start SPEC in TARGET with STDIO (stdin, stdout, stderr; -1 for /dev/null; ignored with a
 * tty). Returns 0 once the command has exec'd, or -1 with RES->error filled and no process
 * left behind. */
int exec_start(const struct exec_spec *spec, const struct exec_target *target, const int stdio[3],
               struct exec_result *res);

/* SIGKILL an exec session: its process group and every process of its session (the shell's
 * jobs), found by session id. LEADER is the session leader's PID in the monitor's namespace
 * (its process group), LEADER_HOSTPID in podd's (its session id in /proc). CGROUP_DIR: the
 * container's cgroup the session was started in, whose processes (and its child groups')
 * are the ones looked at; NULL (or unreadable): every process in /proc. */
void exec_kill_session(pid_t leader, pid_t leader_hostpid, const char *cgroup_dir);

#endif
