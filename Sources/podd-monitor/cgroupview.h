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

/* Notes the container's group on each v1 hierarchy (/proc/self/cgroup) in BUF, which must
 * outlive cgroup_view_mount: called by the container's process once it has joined them and
 * before its cgroup namespace, so that cgroup_view_mount can bind those groups from the
 * host's mounts (cheaper than mounting each hierarchy, and the same view). Without it every
 * hierarchy is mounted. */
void cgroup_view_note_groups(char *buf, size_t size);

/* Mounts it beneath SYS, the container's new sysfs mount (before pivot_root). Returns 0,
 * or -1 with E filled (stage "mount(cgroup...)"). */
int cgroup_view_mount(int sys, int privileged, struct setup_error *e);

#endif
