/* sandbox.c - see sandbox.h. */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

/* A new network namespace has only "lo", and it is down: without this, 127.0.0.1 does not
 * work and the sidecar pattern (containers talking over localhost) fails. */
static int loopback_up(struct setup_error *e)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return setup_fail(e, errno, "lo up", "socket: %s", strerror(errno));
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
        int err = errno;
        close(fd);
        return setup_fail(e, err, "lo up", "SIOCGIFFLAGS lo: %s", strerror(err));
    }
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
        int err = errno;
        close(fd);
        return setup_fail(e, err, "lo up", "SIOCSIFFLAGS lo: %s", strerror(err));
    }
    close(fd);
    return 0;
}

int sandbox_create(const struct sandbox_config *cfg, struct setup_error *e)
{
    int flags = (cfg->host_ipc ? 0 : CLONE_NEWIPC) | CLONE_NEWNS;

    /* First, so that the namespaces' kernel objects and everything after are charged to
     * the pod, not to podd. */
    if (cfg->cgroup_dir != NULL && cgroup_enter(cfg->cgroup_dir) < 0)
        return setup_fail(e, errno, "cgroup", "join %s: %s", cfg->cgroup_dir, strerror(errno));

    /* CLONE_NEWPID moves only our future children: the first one becomes the pod's PID 1,
     * which is why the monitor proper is the child forked after this. */
    if (cfg->share_pid)
        flags |= CLONE_NEWPID;
    /* A hostNetwork pod keeps the host's network and UTS namespaces (podd's), as kubelet's
     * do: its hostname is the host's. */
    if (!cfg->host_network)
        flags |= CLONE_NEWNET | CLONE_NEWUTS;
    if (unshare(flags) < 0)
        return setup_fail(e, errno, "unshare", "unshare(%sipc|mnt%s): %s",
                          cfg->host_network ? "" : "net|uts|", cfg->share_pid ? "|pid" : "", strerror(errno));

    /* Slave, not private: host mounts made later (a volume podd mounts) still propagate
     * in, while nothing the pod mounts leaks out to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        return setup_fail(e, errno, "mount(/ rslave)", "make / a recursive slave: %s",
                          strerror(errno));

    if (!cfg->host_network && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
        return setup_fail(e, errno, "sethostname", "sethostname(%s): %s", cfg->hostname,
                          strerror(errno));

    if (!cfg->host_network && loopback_up(e) < 0)
        return -1;

    /* Kubernetes gives all containers of a pod one /dev/shm (POSIX shared memory goes with
     * the shared IPC namespace). It lives in the pod's mount namespace only: the host sees
     * an empty directory, and the tmpfs vanishes with the monitor. 64 MiB as Docker's. */
    if (mkdir(cfg->shm_dir, 0755) < 0 && errno != EEXIST)
        return setup_fail(e, errno, "mount(shm)", "mkdir %s: %s", cfg->shm_dir, strerror(errno));
    if (mount("shm", cfg->shm_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=1777,size=65536k") < 0)
        return setup_fail(e, errno, "mount(shm)", "tmpfs on %s: %s", cfg->shm_dir,
                          strerror(errno));

    /* emptyDir volumes with medium Memory: one tmpfs each, shared by every container that
     * mounts it (they bind it from here), gone with the pod's mount namespace. */
    for (int i = 0; i < cfg->tmpfs_count; i++) {
        char opts[64];
        if (cfg->tmpfs_size[i] > 0)
            snprintf(opts, sizeof opts, "mode=1777,size=%llu", cfg->tmpfs_size[i]);
        else
            snprintf(opts, sizeof opts, "mode=1777");
        if (mkdir(cfg->tmpfs_path[i], 0777) < 0 && errno != EEXIST)
            return setup_fail(e, errno, "mount(tmpfs volume)", "mkdir %s: %s", cfg->tmpfs_path[i],
                              strerror(errno));
        if (mount("tmpfs", cfg->tmpfs_path[i], "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
            return setup_fail(e, errno, "mount(tmpfs volume)", "tmpfs on %s: %s", cfg->tmpfs_path[i],
                              strerror(errno));
    }
    return 0;
}
