/* hostdev.c - see hostdev.h. */
#define _GNU_SOURCE
#include "hostdev.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copy the nodes of host directory HOST into the container directory fd TARGET, down to
 * DEPTH levels of subdirectories. A node that exists already (null, zero, ... bound by
 * mount_dev) is kept. */
static int copy_nodes(int host, int target, int depth, struct setup_error *e)
{
    int fd = dup(host);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *entry;

    if (dir == NULL) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return setup_fail(e, err, "mount(/dev)", "read the host's /dev: %s", strerror(err));
    }
    while ((entry = readdir(dir)) != NULL) {
        const char *name = entry->d_name;
        struct stat st;
        if (name[0] == '.' || strcmp(name, "pts") == 0 || strcmp(name, "shm") == 0 ||
            strcmp(name, "mqueue") == 0 || strcmp(name, "console") == 0 || strcmp(name, "ptmx") == 0)
            continue;
        if (fstatat(host, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            if (mknodat(target, name, st.st_mode, st.st_rdev) < 0) {
                if (errno == EEXIST)
                    continue;
                int err = errno;
                closedir(dir);
                return setup_fail(e, err, "mount(/dev)", "mknod /dev/%s: %s", name, strerror(err));
            }
            fchownat(target, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
        } else if (S_ISDIR(st.st_mode) && depth > 0) {
            int sub_host = openat(host, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int sub_target;
            if (sub_host < 0)
                continue;
            if (mkdirat(target, name, st.st_mode & 07777) < 0 && errno != EEXIST) {
                close(sub_host);
                continue;
            }
            sub_target = openat(target, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub_target >= 0) {
                int rc = copy_nodes(sub_host, sub_target, depth - 1, e);
                close(sub_target);
                if (rc < 0) {
                    close(sub_host);
                    closedir(dir);
                    return -1;
                }
            }
            close(sub_host);
        }
    }
    closedir(dir);
    return 0;
}

int hostdev_populate(int dev, struct setup_error *e)
{
    int host = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int target, rc;

    if (host < 0)
        return setup_fail(e, errno, "mount(/dev)", "open the host's /dev: %s", strerror(errno));
    target = openat(dev, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (target < 0) {
        int err = errno;
        close(host);
        return setup_fail(e, err, "mount(/dev)", "open the container's /dev: %s", strerror(err));
    }
    rc = copy_nodes(host, target, 2, e);
    close(target);
    close(host);
    return rc;
}
