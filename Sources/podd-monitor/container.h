/* container.h - start one container: fork, namespaces, root filesystem, exec.
 *
 * The monitor calls container_start and gets back either a running process (its exec has
 * succeeded) or the stage that failed. It waits for the outcome synchronously: setting up
 * a container takes a few milliseconds, and waiting keeps the monitor free of a
 * "starting" state and guarantees a container that never exec'd is never reported.
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
    const struct seccomp_program *seccomp; /* set by container_start: compiled before the fork */
};

struct start_result {
    pid_t pid;         /* in the monitor's PID namespace: for waitpid and kill */
    pid_t hostpid;     /* in podd's PID namespace: for podd */
    int stdout_fd;     /* non-blocking, close-on-exec read ends of the container's output */
    int stderr_fd;     /* -1 with a terminal: stdout_fd is then the pty's master */
    int stdin_fd;      /* stdin=1 without tty: the write end of the container's stdin, else -1 */
    struct setup_error error; /* why, when container_start returns -1 */
};

/* Start SPEC (its pidns already resolved: POD, OWN or CONTAINER). Returns 0 once the
 * workload has exec'd, or -1 with RES->error filled and no process left behind. */
int container_start(const struct spawn_spec *spec, const struct start_context *ctx,
                    struct start_result *res);

/* Look ARGV[0] up in the PATH of ENVP (the container's, not the monitor's) and exec it, as
 * execvpe does. Returns only on failure, with E filled (stage "exec"). */
int exec_command(char *const argv[], char *const envp[], struct setup_error *e);

#endif
