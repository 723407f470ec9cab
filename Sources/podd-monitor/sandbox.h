/* sandbox.h - the pod's shared namespaces, created once at monitor start-up.
 *
 * What Kubernetes calls the pod sandbox: the network namespace (loopback up), IPC, UTS
 * (the pod's hostname), a private mount namespace, optionally a shared PID namespace, and
 * a pod-wide /dev/shm. Every container of the pod joins these by being forked from the
 * monitor, which holds them for as long as the pod lives.
 */
#ifndef PODD_MONITOR_SANDBOX_H
#define PODD_MONITOR_SANDBOX_H

#include "setup_error.h"

#define SANDBOX_MAX_TMPFS 64

struct sandbox_config {
    const char *cgroup_dir; /* pod cgroup to join first, or NULL */
    const char *hostname;
    int share_pid;          /* also unshare the PID namespace (takes effect for children) */
    int host_ipc;           /* hostIPC: keep the host's IPC namespace */
    int host_network;       /* keep the host's network namespace (hostNetwork pods) */
    const char *shm_dir;    /* where to mount the pod's /dev/shm tmpfs (in the pod's mount ns) */
    /* Memory-backed emptyDir volumes: a tmpfs on each path, size in bytes (0: default). */
    const char *tmpfs_path[SANDBOX_MAX_TMPFS];
    unsigned long long tmpfs_size[SANDBOX_MAX_TMPFS];
    int tmpfs_count;
};

/* Move the calling process into the pod's new namespaces, in the order the protocol
 * documents. Returns 0, or -1 with E filled. */
int sandbox_create(const struct sandbox_config *cfg, struct setup_error *e);

#endif
