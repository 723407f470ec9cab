/* capabilities.h - the capability set a container runs with. */
#ifndef PODD_MONITOR_CAPABILITIES_H
#define PODD_MONITOR_CAPABILITIES_H

#include "setup_error.h"

/* Reduce the calling process to Docker's default capabilities: CHOWN, DAC_OVERRIDE, FSETID,
 * FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT,
 * KILL, AUDIT_WRITE. Must run after the last mount (mounting needs CAP_SYS_ADMIN).
 * KEEP_MKNOD 0 leaves MKNOD out too: for a container no device allowlist covers (no
 * cgroup to enforce one), so that it cannot make a node of a host device. */
int caps_limit_to_default(int keep_mknod, struct setup_error *e);

#endif
