/* usernamespace.c - see usernamespace.h. */
#define _GNU_SOURCE
#include "usernamespace.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_map(pid_t pid, const char *file, const char *map, struct setup_error *e)
{
    char path[64];
    int fd, rc;
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return setup_fail(e, errno, "userns", "open %s: %s", path, strerror(errno));
    rc = (int)write(fd, map, strlen(map));
    if (rc < 0) {
        int err = errno;
        close(fd);
        return setup_fail(e, err, "userns", "write \"%s\" to %s: %s", map, path, strerror(err));
    }
    close(fd);
    return 0;
}

int userns_create(unsigned long base, unsigned long count, struct setup_error *e)
{
    int ready[2], fd = -1;
    char map[64], path[64], byte = 0;
    pid_t holder;

    /* A namespace's maps are written from outside it (a process inside may only map its own
     * ID): a child makes the namespace and waits, the monitor (root here) maps it, keeps an
     * fd of it, and lets the child go. */
    if (pipe2(ready, O_CLOEXEC) < 0)
        return setup_fail(e, errno, "userns", "pipe: %s", strerror(errno));
    holder = fork();
    if (holder < 0) {
        int err = errno;
        close(ready[0]);
        close(ready[1]);
        return setup_fail(e, err, "userns", "fork: %s", strerror(err));
    }
    if (holder == 0) {
        close(ready[0]);
        byte = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        if (write(ready[1], &byte, 1) < 0 || byte != 'y')
            _exit(1);
        pause();
        _exit(0);
    }
    close(ready[1]);
    if (read(ready[0], &byte, 1) != 1 || byte != 'y') {
        setup_fail(e, EPERM, "userns", "unshare(CLONE_NEWUSER) refused (user.max_user_namespaces, or a seccomp policy around podd?)");
        goto out;
    }
    snprintf(map, sizeof map, "0 %lu %lu\n", base, count);
    if (write_map(holder, "uid_map", map, e) < 0 || write_map(holder, "gid_map", map, e) < 0)
        goto out;
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)holder);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        setup_fail(e, errno, "userns", "open %s: %s", path, strerror(errno));
out:
    close(ready[0]);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    return fd;
}

int userns_idmapped_clone(const char *source, int userns_fd, int recursive, const char *stage,
                          struct setup_error *e)
{
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns_fd};
    int mnt = (int)syscall(SYS_open_tree, AT_FDCWD, source,
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
    if (mnt < 0)
        return setup_fail(e, errno, stage, "open_tree %s: %s", source, strerror(errno));
    if (syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) {
        int err = errno;
        close(mnt);
        if (err == EINVAL)
            return setup_fail(e, err, stage, "idmapped mount of %s: the file system there cannot be idmapped "
                              "on this kernel (hostUsers: false needs ext4, xfs, btrfs or tmpfs)", source);
        return setup_fail(e, err, stage, "idmapped mount of %s: %s", source, strerror(err));
    }
    return mnt;
}

int userns_attach(int mnt, int target_fd, const char *stage, struct setup_error *e)
{
    if (syscall(SYS_move_mount, mnt, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return setup_fail(e, errno, stage, "attach the idmapped mount: %s", strerror(errno));
    return 0;
}
