/* cgroupview.h - the container's /sys/fs/cgroup.
 *
 * A container in a cgroup namespace of its own (container.c) sees, on /sys/fs/cgroup, its
 * own groups as the roots of the hierarchies, with its limits, as a container on Kubernetes
 * does: cgroup2 itself where the host has the unified layout; where it has v1 hierarchies
 * (a hybrid machine), runc's layout: a tmpfs with each v1 hierarchy in a directory of its
 * own (memory/memory.limit_in_bytes) and cgroup2 at unified. Read-only unless privileged.
 */
#ifndef PODD_MONITOR_CGROUPVIEW_H
#define PODD_MONITOR_CGROUPVIEW_H

#include "setup_error.h"

/* Reads the host's layout (its mount table, the links in /sys/fs/cgroup) once: the monitor
 * calls it before forking a container, which then inherits it instead of reading it again
 * at every start. */
void cgroup_view_prepare(void);

/* Mounts it beneath SYS, the container's new sysfs mount (before pivot_root), for the
 * container CONTAINER (its v1 groups are bound from the host's hierarchies where podd knows
 * them, which is cheaper than a mount of each and shows the same). Returns 0, or -1 with E
 * filled (stage "mount(cgroup...)"). */
int cgroup_view_mount(int sys, int privileged, const char *container, struct setup_error *e);

#endif
