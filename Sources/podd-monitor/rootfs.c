/* rootfs.c - see rootfs.h.
 *
 * Runs in the container process between fork and exec. The monitor is single-threaded, so
 * the child may use ordinary libc (snprintf, strerror); it must not return into the
 * monitor's code, which is why every failure comes back as -1 + setup_error and the
 * caller reports it and _exits.
 *
 * Mounting "onto an fd": targets are opened with openat2(RESOLVE_IN_ROOT) relative to the
 * new root, and the mount is made on /proc/self/fd/N (the host's /proc is still mounted at
 * /proc until pivot_root). This is how runc closed CVE-2021-30465.
 */
#define _GNU_SOURCE
#include "rootfs.h"

#include "cgroupview.h"
#include "hostdev.h"
#include "usernamespace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

enum node_kind { NODE_DIR, NODE_FILE };

/* Open PATH (relative to ROOT) as if ROOT were "/": "..", absolute symlinks and symlinks
 * pointing upward all stay inside ROOT. */
static int open_in_root(int root, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    while (*path == '/')
        path++;
    if (*path == '\0')
        path = ".";
    return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

int open_beneath_strict(int dir, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    while (*path == '/')
        path++;
    if (*path == '\0')
        path = ".";
    return (int)syscall(SYS_openat2, dir, path, &how, sizeof how);
}

/* Open the mount point PATH inside ROOT as an O_PATH fd, creating it and its missing
 * parents (directories, and the last element as KIND) the way `mkdir -p` / `touch` would.
 * Each element is created with mkdirat/openat(O_EXCL|O_NOFOLLOW) in a parent that was
 * itself resolved inside ROOT, so creation never follows a symlink either. */
static int make_mount_point(int root, const char *path, enum node_kind kind,
                            const char *stage, struct setup_error *e)
{
    char prefix[PATH_MAX];
    size_t len = 0;
    const char *p = path;
    int parent = -1, fd;

    while (*p == '/')
        p++;
    for (;;) {
        size_t n = strcspn(p, "/");
        const char *next = p + n;
        int last;

        while (*next == '/')
            next++;
        last = *next == '\0';
        if (len + n + 2 > sizeof prefix) {
            if (parent >= 0)
                close(parent);
            return setup_fail(e, ENAMETOOLONG, stage, "%s: path too long", path);
        }
        memcpy(prefix + len, p, n);
        prefix[len + n] = '\0';

        if (last && kind == NODE_FILE) {
            fd = openat(parent >= 0 ? parent : root, prefix + len,
                        O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (fd >= 0)
                close(fd);
            else if (errno != EEXIST)
                goto fail_create;
        } else if (mkdirat(parent >= 0 ? parent : root, prefix + len, 0755) < 0 &&
                   errno != EEXIST) {
            goto fail_create;
        }
        fd = open_in_root(root, prefix, O_PATH | (last && kind == NODE_FILE ? 0 : O_DIRECTORY));
        if (fd < 0) {
            int err = errno;
            if (parent >= 0)
                close(parent);
            return setup_fail(e, err, stage, "open /%s in the container: %s", prefix,
                              strerror(err));
        }
        if (parent >= 0)
            close(parent);
        if (last)
            return fd;
        parent = fd;
        prefix[len + n] = '/';
        len += n + 1;
        p = next;
    }

fail_create: {
        int err = errno;
        if (parent >= 0)
            close(parent);
        return setup_fail(e, err, stage, "create /%s in the container: %s", prefix,
                          strerror(err));
    }
}

int mount_on_fd(const char *source, int fd, const char *fstype, unsigned long flags,
                const char *data)
{
    char target[40];
    snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
    return mount(source, target, fstype, flags, data);
}

/* A bind remount to read-only keeps the per-mount flags it already had (nosuid, nodev,
 * noexec, atime) so that "ro" only ever removes rights. */
static int remount_readonly(int fd)
{
    struct statvfs sv;
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;

    if (fstatvfs(fd, &sv) == 0) {
        if (sv.f_flag & ST_NOSUID)
            flags |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
            flags |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
            flags |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
            flags |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
            flags |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
            flags |= MS_RELATIME;
    }
    return mount_on_fd(NULL, fd, NULL, flags, NULL);
}

/* Binds SOURCE (recursively) on the mount point TARGET read-only, as one detached tree made
 * read-only before it is attached (open_tree, mount_setattr, move_mount). The bind-then-
 * remount it replaces looked the mount point up again by path between the two: another
 * container of the pod writing the volume that holds the mount point could rename it or swap
 * in a symlink there, and have podd remount something else while this bind stayed writable.
 * Only the top mount is made read-only (what the remount did, and Kubernetes' default,
 * recursiveReadOnly: Disabled). With USERNS_FD >= 0 the tree is idmapped first. Returns 1
 * when the kernel lacks the calls (before 5.12): the caller binds and remounts as before. */
static int bind_readonly(const char *source, int target, int userns_fd, const char *stage,
                         struct setup_error *e)
{
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    int mnt;

    if (userns_fd >= 0) {
        mnt = userns_idmapped_clone(source, userns_fd, 1, stage, e);
        if (mnt < 0)
            return -1;
    } else {
        mnt = (int)syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (mnt < 0) {
            if (errno == ENOSYS)
                return 1;
            return setup_fail(e, errno, stage, "open_tree %s: %s", source, strerror(errno));
        }
    }
    if (syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
        int err = errno;
        close(mnt);
        if (err == ENOSYS && userns_fd < 0)
            return 1;
        return setup_fail(e, err, stage, "make the bind of %s read-only: %s", source, strerror(err));
    }
    if (syscall(SYS_move_mount, mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
        int err = errno;
        close(mnt);
        return setup_fail(e, err, stage, "attach the read-only bind of %s: %s", source, strerror(err));
    }
    close(mnt);
    return 0;
}

/* Mount a fresh filesystem of FSTYPE on PATH inside ROOT. */
static int mount_fs(int root, const char *path, const char *fstype, unsigned long flags,
                    const char *data, const char *stage, struct setup_error *e)
{
    int fd = make_mount_point(root, path, NODE_DIR, stage, e);
    if (fd < 0)
        return -1;
    if (mount_on_fd(fstype, fd, fstype, flags, data) < 0) {
        int err = errno;
        close(fd);
        return setup_fail(e, err, stage, "mount %s on %s: %s", fstype, path, strerror(err));
    }
    close(fd);
    return 0;
}

/* Mounts the kernel file system FSTYPE (proc, sysfs) on PATH inside ROOT, which must be a
 * directory reached through no symlink: an image whose /proc leads elsewhere (a symlink
 * into a volume mounted later) would get the kernel's files where no mask covers them, as
 * runc refuses ("must be mounted on ordinary directory"). Returns an O_PATH fd of the new
 * mount's root, or -1. */
static int mount_kernel_fs(int root, const char *path, const char *fstype, unsigned long flags,
                           const char *stage, struct setup_error *e)
{
    int fd = make_mount_point(root, path, NODE_DIR, stage, e);
    if (fd < 0)
        return -1;
    close(fd);
    fd = open_beneath_strict(root, path, O_PATH | O_DIRECTORY);
    if (fd < 0) {
        int err = errno;
        if (err == ELOOP || err == ENOTDIR)
            return setup_fail(e, err, stage, "the image's %s is a symlink or has one on its way: %s is mounted on "
                              "a plain directory only (the image must not redirect it)", path, fstype);
        return setup_fail(e, err, stage, "open %s in the container: %s", path, strerror(err));
    }
    if (mount_on_fd(fstype, fd, fstype, flags, NULL) < 0) {
        int err = errno;
        close(fd);
        return setup_fail(e, err, stage, "mount %s on %s: %s", fstype, path, strerror(err));
    }
    close(fd);
    /* Re-open: the fd must now name the new mount, not the directory it covers. */
    fd = open_beneath_strict(root, path, O_PATH | O_DIRECTORY);
    if (fd < 0)
        return setup_fail(e, errno, stage, "open the new %s at %s: %s", fstype, path, strerror(errno));
    return fd;
}

/* The image's layers, top first ("A:B:C"), are the read-only lower layers; the container's
 * writes go to its own upper dir, so containers sharing an image never see each other's
 * changes. The mount data must fit in a page: when a deep image's absolute paths do not,
 * and its layers share one directory (the store's layers dir), the mount is made from
 * inside that directory with relative names (this process's cwd is the container's to
 * set later, at pivot_root). */
static int relative_lowers(const char *lower, char *out, size_t outlen, char *dir, size_t dirlen)
{
    const char *end = strchr(lower, ':');
    size_t first = end ? (size_t)(end - lower) : strlen(lower);
    size_t cut = first, used = 0;

    while (cut > 0 && lower[cut - 1] != '/')
        cut--;
    if (cut <= 1 || cut >= dirlen)
        return -1;
    memcpy(dir, lower, cut - 1);
    dir[cut - 1] = '\0';
    for (const char *p = lower; *p != '\0';) {
        size_t n = strcspn(p, ":");
        if (n <= cut || strncmp(p, lower, cut) != 0 || used + (n - cut) + 2 > outlen)
            return -1;
        if (used > 0)
            out[used++] = ':';
        memcpy(out + used, p + cut, n - cut);
        used += n - cut;
        p += n;
        if (*p == ':')
            p++;
    }
    out[used] = '\0';
    return 0;
}

/* In a user namespace each layer of the image is an idmapped mount on a directory beside the
 * mount point, in this container's own mount namespace: its files owned by 0 belong to the
 * namespace's root. The writable layer is not idmapped (overlayfs makes its work dir with the
 * mounter's IDs, which such a mapping cannot hold): what the container writes is stored
 * under the host IDs of the namespace, and its root directory is the namespace's root's, so
 * that the container's root may write there. OUT gets the idmapped layers, top first. */
static int idmapped_lowers(const struct spawn_spec *spec, int userns_fd, unsigned long userns_root,
                           char *out, size_t outlen, struct setup_error *e)
{
    size_t used = 0;
    int index = 0;

    out[0] = '\0';
    for (const char *p = spec->lower; *p != '\0'; index++) {
        char layer[PATH_MAX], idlower[PATH_MAX];
        size_t n = strcspn(p, ":");
        int mnt, fd;

        if (n >= sizeof layer)
            return setup_fail(e, ENAMETOOLONG, "mount(overlay)", "layer path too long");
        memcpy(layer, p, n);
        layer[n] = '\0';
        p += n;
        if (*p == ':')
            p++;
        snprintf(idlower, sizeof idlower, "%s.lower%d", spec->merged, index);
        if (mkdir(idlower, 0700) < 0 && errno != EEXIST)
            return setup_fail(e, errno, "mount(overlay)", "mkdir %s: %s", idlower, strerror(errno));
        mnt = userns_idmapped_clone(layer, userns_fd, 0, "mount(overlay)", e);
        if (mnt < 0)
            return -1;
        fd = open(idlower, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || userns_attach(mnt, fd, "mount(overlay)", e) < 0) {
            int err = errno;
            close(mnt);
            if (fd >= 0)
                close(fd);
            return fd < 0 ? setup_fail(e, err, "mount(overlay)", "open %s: %s", idlower, strerror(err)) : -1;
        }
        close(fd);
        close(mnt);
        if (used + strlen(idlower) + 2 > outlen)
            return setup_fail(e, ENAMETOOLONG, "mount(overlay)",
                              "the image has too many layers for one overlay mount in a user namespace");
        if (used > 0)
            out[used++] = ':';
        memcpy(out + used, idlower, strlen(idlower) + 1);
        used += strlen(idlower);
    }
    if (chown(spec->upper, (uid_t)userns_root, (gid_t)userns_root) < 0)
        return setup_fail(e, errno, "mount(overlay)", "chown %s to the pod's root (%lu): %s", spec->upper,
                          userns_root, strerror(errno));
    return 0;
}

static int mount_overlay(const struct spawn_spec *spec, int userns_fd, unsigned long userns_root,
                         struct setup_error *e)
{
    char data[4096], rel[4096], dir[PATH_MAX], idmapped[4096];
    const char *lower = spec->lower;

    if (userns_fd >= 0) {
        if (idmapped_lowers(spec, userns_fd, userns_root, idmapped, sizeof idmapped, e) < 0)
            return -1;
        lower = idmapped;
    }
    if (snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", lower,
                 spec->upper, spec->work) >= (int)sizeof data) {
        if (relative_lowers(lower, rel, sizeof rel, dir, sizeof dir) < 0 ||
            snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", rel, spec->upper,
                     spec->work) >= (int)sizeof data)
            return setup_fail(e, ENAMETOOLONG, "mount(overlay)",
                              "the image has too many layers for one overlay mount");
        if (chdir(dir) < 0)
            return setup_fail(e, errno, "mount(overlay)", "chdir %s: %s", dir, strerror(errno));
    }
    /* volatile: the writable layer is made anew for every run (ContainerLaunch) and never
     * mounted again, so syncing it buys nothing; without it, the last exit from the
     * container's mount namespace syncs the whole upper file system (ovl_sync_fs) before
     * the monitor even learns of the exit: 3-30 ms of disk writeback on every container
     * exit here (podctl debug waits for it). Kernels before 5.10 refuse the option. */
    if (strlen(data) + sizeof ",volatile" <= sizeof data) {
        size_t used = strlen(data);
        memcpy(data + used, ",volatile", sizeof ",volatile");
        if (mount("overlay", spec->merged, "overlay", 0, data) == 0)
            return 0;
        if (errno != EINVAL)
            return setup_fail(e, errno, "mount(overlay)", "overlay %s on %s: %s", data,
                              spec->merged, strerror(errno));
        data[used] = '\0';
    }
    if (mount("overlay", spec->merged, "overlay", 0, data) < 0)
        return setup_fail(e, errno, "mount(overlay)", "overlay %s on %s: %s", data,
                          spec->merged, strerror(errno));
    return 0;
}

/* The harmless devices every container gets, as runc's default list has them. */
static const struct {
    const char *name;
    unsigned major, minor;
} default_devices[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

/* The I-th default device in the container's /dev (DEV): made with mknod, as runc does outside a user
 * namespace (a node on the container's own tmpfs costs a mount nothing: none to make at
 * the start, none to tear down at the exit), or else bound from the host's /dev. */
static int make_device(int dev, size_t i, struct setup_error *e)
{
    char host[32];
    int fd;

    if (mknodat(dev, default_devices[i].name, S_IFCHR | 0666,
                makedev(default_devices[i].major, default_devices[i].minor)) == 0) {
        /* mknod honours the umask: the mode is set again, as the host's nodes have it. */
        if (fchmodat(dev, default_devices[i].name, 0666, 0) == 0)
            return 0;
        unlinkat(dev, default_devices[i].name, 0);
    }
    /* A bind mount needs an existing file as its mount point. */
    fd = openat(dev, default_devices[i].name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
    if (fd >= 0)
        close(fd);
    fd = openat(dev, default_devices[i].name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    snprintf(host, sizeof host, "/dev/%s", default_devices[i].name);
    if (fd < 0 || mount_on_fd(host, fd, NULL, MS_BIND, NULL) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return setup_fail(e, err, "mount(/dev)", "bind %s: %s", host, strerror(err));
    }
    close(fd);
    return 0;
}

/* A minimal /dev as Docker and runc make it: a tmpfs with the harmless devices in it, a
 * private devpts instance (ptys of this container only), a /dev/shm, and the fd symlinks
 * programs expect. No other host device is reachable. */
static int mount_dev(int root, const char *shm_dir, int privileged, struct setup_error *e)
{
    static const char *const links[][2] = {
        {"pts/ptmx", "ptmx"},          {"/proc/self/fd", "fd"},
        {"/proc/self/fd/0", "stdin"},  {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"},
    };
    int dev, fd;

    if (mount_fs(root, "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k",
                 "mount(/dev)", e) < 0)
        return -1;
    /* Re-open after mounting: the fd must now name the new tmpfs, not what it covers. */
    dev = open_in_root(root, "/dev", O_PATH | O_DIRECTORY);
    if (dev < 0)
        return setup_fail(e, errno, "mount(/dev)", "open /dev: %s", strerror(errno));

    for (size_t i = 0; i < sizeof default_devices / sizeof default_devices[0]; i++) {
        if (make_device(dev, i, e) < 0) {
            close(dev);
            return -1;
        }
    }

    /* newinstance: the container's ptys are its own, not the host's /dev/pts. */
    if ((mkdirat(dev, "pts", 0755) < 0 && errno != EEXIST) ||
        (fd = openat(dev, "pts", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int err = errno;
        close(dev);
        return setup_fail(e, err, "mount(/dev/pts)", "mkdir /dev/pts: %s", strerror(err));
    }
    if (mount_on_fd("devpts", fd, "devpts", MS_NOSUID | MS_NOEXEC,
                    "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0) {
        int err = errno;
        close(fd);
        close(dev);
        return setup_fail(e, err, "mount(/dev/pts)", "devpts: %s", strerror(err));
    }
    close(fd);

    if ((mkdirat(dev, "shm", 01777) < 0 && errno != EEXIST) ||
        (fd = openat(dev, "shm", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int err = errno;
        close(dev);
        return setup_fail(e, err, "mount(/dev/shm)", "mkdir /dev/shm: %s", strerror(err));
    }
    if ((shm_dir != NULL ? mount_on_fd(shm_dir, fd, NULL, MS_BIND, NULL)
                         : mount_on_fd("shm", fd, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                       "mode=1777,size=65536k")) < 0) {
        int err = errno;
        close(fd);
        close(dev);
        return setup_fail(e, err, "mount(/dev/shm)", "/dev/shm: %s", strerror(err));
    }
    close(fd);

    /* POSIX message queues belong to the (pod's) IPC namespace; mounting mqueue here shows
     * that namespace's queues, as Docker does. */
    if ((mkdirat(dev, "mqueue", 0755) < 0 && errno != EEXIST) ||
        (fd = openat(dev, "mqueue", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        mount_on_fd("mqueue", fd, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
        int err = errno;
        close(dev);
        return setup_fail(e, err, "mount(/dev/mqueue)", "mqueue: %s", strerror(err));
    }
    close(fd);

    if (privileged && hostdev_populate(dev, e) < 0) {
        close(dev);
        return -1;
    }
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST) {
            int err = errno;
            close(dev);
            return setup_fail(e, err, "mount(/dev)", "symlink /dev/%s: %s", links[i][1],
                              strerror(err));
        }
    }
    close(dev);
    return 0;
}

/* A volumeMount's subPath: the path is opened beneath the volume's root with openat2
 * RESOLVE_BENEATH, so neither ".." nor a symlink (absolute, or climbing out) written into
 * the volume by a container reaches anything outside it (EXDEV); the fd opened is what gets
 * bound, so nothing can swap the path between the check and the mount. */
/* Opens a bind mount's source for mounting (O_PATH), refusing any symlink on the way: podd
 * sends sources with every symlink resolved (and checks hostPath sources against its policy
 * on that resolved path), so a symlink found now was put there since, by something that
 * wants the mount to land elsewhere (a pod writing into a directory another pod mounts).
 * Mounting through the fd (/proc/self/fd/N) then binds exactly what was opened. */
static int open_bind_source(const char *source, const char *what, const char *stage, struct setup_error *e)
{
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, source, &how, sizeof how);
    if (fd < 0) {
        int err = errno;
        if (err == ELOOP)
            return setup_fail(e, err, stage, "%s %s: a symlink appeared in its path after podd checked it; "
                              "refusing to follow it", what, source);
        return setup_fail(e, err, stage, "%s %s: %s", what, source, strerror(err));
    }
    return fd;
}

static int mount_subpath(int root, const struct mount_spec *ms, const char *stage,
                         struct setup_error *e)
{
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    struct stat st;
    int volume, fd, target;

    volume = open_bind_source(ms->source, "volume", stage, e);
    if (volume < 0)
        return -1;
    fd = (int)syscall(SYS_openat2, volume, ms->subpath, &how, sizeof how);
    close(volume);
    if (fd < 0) {
        int err = errno;
        return setup_fail(e, err, stage, "subPath %s: %s", ms->subpath,
                          err == EXDEV ? "leads outside the volume (a symlink or '..' escaping it)"
                                       : strerror(err));
    }
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return setup_fail(e, err, stage, "subPath %s: %s", ms->subpath, strerror(err));
    }
    target = make_mount_point(root, ms->target, S_ISDIR(st.st_mode) ? NODE_DIR : NODE_FILE, stage, e);
    if (target < 0) {
        close(fd);
        return -1;
    }
    char source[40];
    snprintf(source, sizeof source, "/proc/self/fd/%d", fd);
    if (ms->readonly) {
        int rc = bind_readonly(source, target, -1, stage, e);
        if (rc <= 0) {
            close(fd);
            close(target);
            return rc;
        }
    }
    if (mount_on_fd(source, target, NULL, MS_BIND | MS_REC, NULL) < 0) {
        int err = errno;
        close(fd);
        close(target);
        return setup_fail(e, err, stage, "bind subPath %s on %s: %s", ms->subpath, ms->target,
                          strerror(err));
    }
    close(fd);
    close(target);
    if (ms->readonly) {
        target = open_in_root(root, ms->target, O_PATH);
        if (target < 0 || remount_readonly(target) < 0) {
            int err = errno;
            if (target >= 0)
                close(target);
            return setup_fail(e, err, stage, "remount %s read-only: %s", ms->target, strerror(err));
        }
        close(target);
    }
    return 0;
}

/* One mount group of the spawn message: a volume (bind) or a memory-backed dir (tmpfs). */
static int mount_volume(int root, const struct mount_spec *ms, int userns_fd, struct setup_error *e)
{
    char stage[sizeof e->stage];
    int fd;

    snprintf(stage, sizeof stage, "mount(%s)", ms->target);
    if (ms->type == MOUNT_BIND && ms->subpath != NULL)
        return mount_subpath(root, ms, stage, e);
    if (ms->type == MOUNT_BIND) {
        struct stat st;
        char source[40];
        int src = open_bind_source(ms->source, "bind source", stage, e);
        if (src < 0)
            return -1;
        snprintf(source, sizeof source, "/proc/self/fd/%d", src);
        /* The mount point must be of the same kind as the source: a file can only be bound
         * on a file and a directory on a directory. */
        if (fstat(src, &st) < 0) {
            int err = errno;
            close(src);
            return setup_fail(e, err, stage, "bind source %s: %s", ms->source, strerror(err));
        }
        fd = make_mount_point(root, ms->target, S_ISDIR(st.st_mode) ? NODE_DIR : NODE_FILE,
                              stage, e);
        if (fd < 0) {
            close(src);
            return -1;
        }
        if (ms->readonly) {
            int rc = bind_readonly(source, fd, userns_fd, stage, e);
            if (rc <= 0) {
                close(fd);
                close(src);
                return rc;
            }
        }
        if (userns_fd >= 0) {
            /* hostUsers: false: the volume's files keep their owners, seen from the pod's
             * user namespace (usernamespace.h). */
            int mnt = userns_idmapped_clone(source, userns_fd, 1, stage, e);
            if (mnt < 0 || userns_attach(mnt, fd, stage, e) < 0) {
                if (mnt >= 0)
                    close(mnt);
                close(fd);
                close(src);
                return -1;
            }
            close(mnt);
        } else if (mount_on_fd(source, fd, NULL, MS_BIND | MS_REC, NULL) < 0) {
            int err = errno;
            close(fd);
            close(src);
            return setup_fail(e, err, stage, "bind %s on %s: %s", ms->source, ms->target,
                              strerror(err));
        }
        close(fd);
        close(src);
        if (ms->readonly) {
            /* MS_RDONLY is ignored on the bind itself; it takes a remount of the new mount,
             * so re-open the target to get the bind mount rather than what it covers. */
            fd = open_in_root(root, ms->target, O_PATH);
            if (fd < 0 || remount_readonly(fd) < 0) {
                int err = errno;
                if (fd >= 0)
                    close(fd);
                return setup_fail(e, err, stage, "remount %s read-only: %s", ms->target,
                                  strerror(err));
            }
            close(fd);
        }
        return 0;
    }

    char data[64] = "mode=1777";
    if (ms->size > 0)
        snprintf(data, sizeof data, "mode=1777,size=%llu", ms->size);
    if (mount_fs(root, ms->target, "tmpfs",
                 MS_NOSUID | MS_NODEV | (ms->readonly ? MS_RDONLY : 0), data, stage, e) < 0)
        return -1;
    return 0;
}

/* pivot_root rather than chroot: the old root is unmounted from the container's namespace
 * entirely, so no ".." or fd trick can climb back to the host's tree. Using "." for both
 * arguments stacks the old root on top of the new one, which umount2 then detaches,
 * without needing a directory to park the old root in. */
static int pivot_into(int root, struct setup_error *e)
{
    if (fchdir(root) < 0)
        return setup_fail(e, errno, "pivot_root", "chdir to the new root: %s", strerror(errno));
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return setup_fail(e, errno, "pivot_root", "pivot_root: %s", strerror(errno));
    if (umount2(".", MNT_DETACH) < 0)
        return setup_fail(e, errno, "pivot_root", "detach the old root: %s", strerror(errno));
    if (chdir("/") < 0)
        return setup_fail(e, errno, "pivot_root", "chdir /: %s", strerror(errno));
    return 0;
}

/* Docker's default masked and read-only paths: kernel interfaces that leak host state
 * (kcore, keys, timers) or change the host (sysrq-trigger, /proc/sys). Each is looked up
 * beneath the container's new /proc or /sys mount itself, with no symlink, before any
 * volume is mounted and before pivot_root: a path looked up later could lead elsewhere, and
 * the host's /dev/null is at hand even when a volume replaces the container's /dev. */
struct kernel_path {
    int in_sys;       /* beneath /sys, else /proc */
    const char *path; /* relative to it */
};

static const struct kernel_path masked_paths[] = {
    {0, "acpi"},        {0, "asound"},      {0, "kcore"},       {0, "keys"},
    {0, "latency_stats"}, {0, "timer_list"}, {0, "timer_stats"}, {0, "sched_debug"},
    {0, "scsi"},        {1, "firmware"},    {1, "devices/virtual/powercap"},
};

static const struct kernel_path readonly_paths[] = {
    {0, "bus"}, {0, "fs"}, {0, "irq"}, {0, "sys"}, {0, "sysrq-trigger"},
};

/* An O_PATH fd of P beneath PROC or SYS; -1 with errno ENOENT when this kernel has no such
 * file (nothing to hide). */
static int open_kernel_path(int proc, int sys, const struct kernel_path *p)
{
    return open_beneath_strict(p->in_sys ? sys : proc, p->path, O_PATH);
}

static int mask_kernel_paths(int proc, int sys, struct setup_error *e)
{
    char stage[sizeof e->stage], source[40];
    struct stat st;

    for (size_t i = 0; i < sizeof masked_paths / sizeof masked_paths[0]; i++) {
        const struct kernel_path *p = &masked_paths[i];
        int fd = open_kernel_path(proc, sys, p), rc;
        snprintf(stage, sizeof stage, "mask(/%s/%s)", p->in_sys ? "sys" : "proc", p->path);
        if (fd < 0 && errno == ENOENT)
            continue; /* absent on this kernel */
        if (fd < 0 || fstat(fd, &st) < 0) {
            int err = errno;
            if (fd >= 0)
                close(fd);
            return setup_fail(e, err, stage, "open /%s/%s: %s", p->in_sys ? "sys" : "proc", p->path, strerror(err));
        }
        /* A directory is covered with an empty read-only tmpfs, a file with /dev/null. */
        rc = S_ISDIR(st.st_mode) ? mount_on_fd("tmpfs", fd, "tmpfs", MS_RDONLY, NULL)
                                 : mount_on_fd("/dev/null", fd, NULL, MS_BIND, NULL);
        if (rc < 0) {
            int err = errno;
            close(fd);
            return setup_fail(e, err, stage, "mask /%s/%s: %s", p->in_sys ? "sys" : "proc", p->path, strerror(err));
        }
        close(fd);
    }
    for (size_t i = 0; i < sizeof readonly_paths / sizeof readonly_paths[0]; i++) {
        const struct kernel_path *p = &readonly_paths[i];
        int fd = open_kernel_path(proc, sys, p), top;
        snprintf(stage, sizeof stage, "mask(/proc/%s)", p->path);
        if (fd < 0 && errno == ENOENT)
            continue;
        if (fd < 0)
            return setup_fail(e, errno, stage, "open /proc/%s: %s", p->path, strerror(errno));
        snprintf(source, sizeof source, "/proc/self/fd/%d", fd);
        if (mount_on_fd(source, fd, NULL, MS_BIND | MS_REC, NULL) < 0) {
            int err = errno;
            close(fd);
            return setup_fail(e, err, stage, "bind /proc/%s: %s", p->path, strerror(err));
        }
        close(fd);
        /* Re-opened, the path names the bind just made: that is what turns read-only. */
        top = open_kernel_path(proc, sys, p);
        if (top < 0 || mount_on_fd(NULL, top, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                   NULL) < 0) {
            int err = errno;
            if (top >= 0)
                close(top);
            return setup_fail(e, err, stage, "make /proc/%s read-only: %s", p->path, strerror(err));
        }
        close(top);
    }
    return 0;
}

int rootfs_enter(const struct spawn_spec *spec, const char *shm_dir, int own_cgroupns, int userns_fd, unsigned long userns_root,
                 struct setup_error *e)
{
    int root, proc = -1, sys = -1;

    /* A mount namespace of the container's own: its overlay, /proc and volumes must not
     * appear in the pod's namespace or in its sibling containers. */
    if (unshare(CLONE_NEWNS) < 0)
        return setup_fail(e, errno, "unshare(mnt)", "unshare(CLONE_NEWNS): %s", strerror(errno));
    /* Private: nothing mounted below propagates back, and pivot_root refuses a root whose
     * parent mount is shared. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return setup_fail(e, errno, "mount(/ rprivate)", "make / private: %s", strerror(errno));

    if (mount_overlay(spec, userns_fd, userns_root, e) < 0)
        return -1;
    /* Opened after the overlay mount, so the fd is the overlay's root. */
    root = open(spec->merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return setup_fail(e, errno, "mount(overlay)", "open %s: %s", spec->merged,
                          strerror(errno));

    /* A /proc of the container's PID namespace (the clone made it current), so ps and
     * /proc/self show the container's view, not the host's. */
    proc = mount_kernel_fs(root, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mount(proc)", e);
    if (proc < 0)
        goto fail;
    /* sysfs shows the network devices of the pod's network namespace; read-only because
     * the rest of it is the host's hardware. */
    sys = mount_kernel_fs(root, "/sys", "sysfs", (spec->security.privileged ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "mount(sysfs)", e);
    if (sys < 0)
        goto fail;
    /* procMount Unmasked and privileged containers see /proc and /sys as they are. */
    if (!spec->security.privileged && !spec->security.proc_unmasked && mask_kernel_paths(proc, sys, e) < 0)
        goto fail;
    if (own_cgroupns && cgroup_view_mount(sys, spec->security.privileged, e) < 0)
        goto fail;
    close(proc);
    close(sys);
    proc = sys = -1;
    if (mount_dev(root, shm_dir, spec->security.privileged, e) < 0)
        goto fail;
    /* In the order given, so a later mount may sit inside an earlier one. */
    for (size_t i = 0; i < spec->mount_count; i++)
        if (mount_volume(root, &spec->mounts[i], userns_fd, e) < 0)
            goto fail;
    /* readOnlyRootFilesystem: the image's root only; /dev, /proc and the volumes are mounts
     * of their own and keep their modes. */
    if (spec->security.readonly_root && remount_readonly(root) < 0) {
        setup_fail(e, errno, "mount(/ ro)", "remount the root read-only: %s", strerror(errno));
        goto fail;
    }
    if (pivot_into(root, e) < 0)
        goto fail;
    close(root);
    return 0;

fail:
    if (proc >= 0)
        close(proc);
    if (sys >= 0)
        close(sys);
    close(root);
    return -1;
}
