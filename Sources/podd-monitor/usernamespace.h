/* usernamespace.h - the pod's user namespace (hostUsers: false).
 *
 * The monitor makes one user namespace per pod, mapping the pod's IDs 0-COUNT to the host's
 * BASE-(BASE+COUNT) (a range podd gives each pod from its config), and keeps it by fd.
 * Every container process joins it (setns) after its mounts are made, so root in a container
 * is an unprivileged host ID. Files keep their on-disk owners: the image's lower layer, the
 * container's writable layer and the volumes are idmapped mounts through the same namespace
 * (Linux 5.12+ for ext4/xfs/btrfs, 5.19+ under overlayfs, 6.3+ for tmpfs), so that an image
 * file owned by 0 is owned by the container's root, as the file system says.
 */
#ifndef PODD_MONITOR_USERNAMESPACE_H
#define PODD_MONITOR_USERNAMESPACE_H

#include "setup_error.h"

/* Make the namespace; returns its fd (close-on-exec) or -1 with E filled ("userns"). */
int userns_create(unsigned long base, unsigned long count, struct setup_error *e);

/* A detached copy of the mount at SOURCE (with its submounts when RECURSIVE) whose IDs are
 * seen through USERNS_FD. Returns the mount's fd or -1 with E filled (STAGE; EINVAL where the
 * file system cannot be idmapped: the message says so). */
int userns_idmapped_clone(const char *source, int userns_fd, int recursive, const char *stage,
                          struct setup_error *e);

/* Attach the detached mount MNT on the directory or file TARGET_FD (an O_PATH fd). */
int userns_attach(int mnt, int target_fd, const char *stage, struct setup_error *e);

#endif
