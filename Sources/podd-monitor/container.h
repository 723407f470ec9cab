/* container.h - start one container: fork, namespaces, root filesystem, exec.
 *
 * In two steps: container_launch clones the container's process, which sets itself up
 * (namespaces, root, credentials) and execs; container_finish waits for the outcome, either
 * a running process (its exec has succeeded) or the stage that failed. Between the two the
 * monitor may launch the pod's next container, so that both set up at once (pod.c), but it
 * does nothing else: a container that never exec'd is never reported, and no other event is
 * handled while a launch is unfinished. Set up side by side, they still exec in the order
 * they were launched, as kubelet starts a pod's containers one after another: each child
 * waits, its root made, until container_release gives it its turn.
 */
#ifndef PODD_MONITOR_CONTAINER_H
#define PODD_MONITOR_CONTAINER_H

#include <sys/types.h>

#include "seccomp.h"
#include "setup_error.h"
#include "spawn_spec.h"

struct start_context {
    const char *cgroup_dir; /* the pod's cgroup; the container goes into cgroup_dir/NAME */
    const char *shm_dir;    /* the pod's /dev/shm, or NULL */
    int target_pidns_fd;    /* PIDNS_CONTAINER: the target's /proc/PID/ns/pid, else -1 */
    const char *devices_v1_dir; /* without cgroup_dir: the v1 devices group to join, or NULL */
    int userns_fd;          /* hostUsers: false: the pod's user namespace, else -1 */
    unsigned long userns_root; /* the host ID of its root */
    const struct seccomp_program *seccomp; /* set by container_launch: compiled before the fork */
    int gate_fd;            /* set by container_launch: the child waits here for its turn to exec */
};

struct start_result {
    pid_t pid;         /* in the monitor's PID namespace: for waitpid and kill */
    pid_t hostpid;     /* in podd's PID namespace: for podd */
    int stdout_fd;     /* non-blocking, close-on-exec read ends of the container's output */
    int stderr_fd;     /* -1 with a terminal: stdout_fd is then the pty's master */
    int stdin_fd;      /* stdin=1 without tty: the write end of the container's stdin, else -1 */
    struct setup_error error; /* why, when container_start returns -1 */
};

/* A container cloned and setting itself up: what container_finish needs. */
struct container_launch {
    pid_t child;            /* the process cloned (for PIDNS_CONTAINER the intermediate) */
    int report;             /* read end of the child's report pipe */
    int gate;               /* write end of the child's gate: its turn to exec (container_release) */
    int out, err, in, pty;  /* the monitor's ends of the stdio pipes / pty socket, or -1 */
    int pidns_container, tty;
    struct seccomp_program filter;
};

/* Clone SPEC's process (its pidns already resolved: POD, OWN or CONTAINER), which goes on
 * to set itself up and exec. Returns 0 with L to finish, or -1 with E filled and nothing
 * left behind. */
int container_launch(const struct spawn_spec *spec, const struct start_context *ctx,
                     struct container_launch *l, struct setup_error *e);

/* Let L's child go on to exec (once its root is made). container_finish does it too. */
void container_release(struct container_launch *l);

/* Give up on L before its release (a held container podd will not start): its child sees
 * its gate close without a turn and leaves; it is killed and reaped here. L is spent. */
void container_abandon(struct container_launch *l);

/* Release L if not yet and wait for its outcome. Returns 0 once the workload has exec'd (RES filled), or -1 with
 * RES->error filled and no process left behind. Either way L is spent. */
int container_finish(struct container_launch *l, struct start_result *res);

/* Look ARGV[0] up in the PATH of ENVP (the container's, not the monitor's) and exec it, as
 * execvpe does. Returns only on failure, with E filled (stage "exec"). */
int exec_command(char *const argv[], char *const envp[], struct setup_error *e);

#endif
