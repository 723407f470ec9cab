/* cgroup.h - the few cgroup v2 operations the monitor needs.
 *
 * podd creates the pod's cgroup (CGDIR) and sets its limits; the monitor only moves
 * processes into it and into one child group per container, and kills container groups.
 */
#ifndef PODD_MONITOR_CGROUP_H
#define PODD_MONITOR_CGROUP_H

#include <stddef.h>

/* Write VALUE to the control file DIR/FILE (v1 or v2). Returns 0 or -1 with errno set. */
int cgroup_write(const char *dir, const char *file, const char *value);

/* Move the calling process into DIR. Returns 0 or -1 with errno set. */
int cgroup_enter(const char *dir);

/* SIGKILL every process in DIR and its descendants at once (cgroup.kill, Linux 5.14). */
int cgroup_kill(const char *dir);

/* Makes DIR a new, empty group: one left there by an earlier monitor of the pod (killed
 * before it could remove it) is emptied (cgroup.kill: what runs there is unsupervised) and
 * made again, because Linux 6.x kills at birth every process cloned into a group that had
 * cgroup.kill written to it (CLONE_INTO_CGROUP compares the kill count of the parent's group
 * with the target's). Returns 0, or -1 with errno set when DIR could not be made anew. */
int cgroup_make_fresh(const char *dir);
/* The pod's groups on v1 hierarchies (memory, cpu, cpuacct, pids where cgroup v2 lacks
 * them), from --cgroup-v1. The monitor stays out of them (the pod's limits bind its
 * containers, not their supervisor: a pod that spends its CPU quota or its pids must not
 * stall the monitor that would stop it); each container and exec'd command joins them
 * itself. v1 has no clone3 shortcut: each join moves the calling thread through `tasks`,
 * which spares the grace period a `cgroup.procs` move waits for (cgroup.c); callers must be
 * single-threaded. */
#define CGROUP_V1_MAX 8
int cgroup_v1_add(const char *dir);
/* A container (or a command exec'd in it) joins, on each v1 hierarchy, DIR/NAME where podd
 * made one (the container has resources of its own), else the pod's group DIR. 0 or -1
 * with errno. */
int cgroup_v1_enter_container(const char *name);

/* BUF = POD_DIR/NAME. Returns -1 (ENAMETOOLONG) if it does not fit. */
int cgroup_container_dir(char *buf, size_t size, const char *pod_dir, const char *name);

#endif
