/* rootfs.h - build a container's root filesystem and make it the process's "/".
 *
 * Runs in the forked container process, before exec. Every path that comes from the image
 * (mount points such as /proc, /dev, volume targets) is resolved inside the image's root,
 * so a symlink in an image cannot make the monitor mount over a host path.
 */
#ifndef PODD_MONITOR_ROOTFS_H
#define PODD_MONITOR_ROOTFS_H

#include "setup_error.h"
#include "spawn_spec.h"

/* In a new private mount namespace: overlay, /proc, /sys, /dev, the spec's mounts in order,
 * pivot_root, masked /proc paths. SHM_DIR (or NULL for a private tmpfs) is bound on
 * /dev/shm. With USERNS_FD >= 0 (hostUsers: false) the layers and volumes are idmapped
 * through that user namespace, whose root is host ID USERNS_ROOT. With OWN_CGROUPNS (the
 * process is in a cgroup namespace of its own, rooted at its groups) its groups are shown on
 * /sys/fs/cgroup (cgroupview.h). Returns 0 with "/" being the container's root, or -1 with
 * E filled. */
int rootfs_enter(const struct spawn_spec *spec, const char *shm_dir, int own_cgroupns, int userns_fd, unsigned long userns_root,
                 struct setup_error *e);

/* Open PATH beneath DIR with no symlink anywhere on the way (ELOOP if there is one) and
 * without leaving DIR. */
int open_beneath_strict(int dir, const char *path, int flags);

/* mount(2) on the file or directory FD is open on (through /proc/self/fd/FD): the target is
 * the one already resolved, whatever its path has become since. */
int mount_on_fd(const char *source, int fd, const char *fstype, unsigned long flags, const char *data);

#endif
