/* hostdev.h - a privileged container's /dev: every device node of the host.
 *
 * As Docker and containerd do for --privileged: the container's /dev tmpfs gets a node for
 * each character and block device of the host's /dev (and its subdirectories, such as
 * /dev/net/tun or /dev/input/...), with the host's mode and owner. The host's own pts, shm
 * and mqueue are left out: the container has its own.
 */
#ifndef PODD_MONITOR_HOSTDEV_H
#define PODD_MONITOR_HOSTDEV_H

#include "setup_error.h"

/* Make the host's device nodes in the directory DEV (an fd of the container's /dev). Runs
 * before pivot_root, while the host's /dev is still visible. */
int hostdev_populate(int dev, struct setup_error *e);

#endif
