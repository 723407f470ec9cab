/* podsecurity.c - see podsecurity.h. */
#define _GNU_SOURCE
#include "podsecurity.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pod_sysctl_valid(const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t n = eq != NULL ? (size_t)(eq - arg) : 0;
    if (n == 0 || n > 253 || arg[0] == '.' || strstr(arg, "..") != NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(arg[i] == '.' || arg[i] == '/' || arg[i] == '-' || arg[i] == '_' ||
              (arg[i] >= 'a' && arg[i] <= 'z') || (arg[i] >= '0' && arg[i] <= '9')))
            return 0;
    return 1;
}

/* /proc/sys/... of a dotted name: '.' separates, a '/' stands for a '.' inside an element
 * (net.ipv4.conf.eth0/100.rp_filter), as sysctl(8) reads it. */
static int sysctl_write(const char *arg, struct setup_error *e)
{
    const char *eq = strchr(arg, '=');
    char path[PATH_MAX] = "/proc/sys/", stage[96];
    size_t len = strlen(path), n = (size_t)(eq - arg);
    int fd;

    snprintf(stage, sizeof stage, "sysctl(%.*s)", (int)n, arg);
    for (size_t i = 0; i < n && len + 1 < sizeof path; i++)
        path[len++] = arg[i] == '.' ? '/' : arg[i] == '/' ? '.' : arg[i];
    path[len] = '\0';
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return setup_fail(e, errno, stage, "open %s: %s", path, strerror(errno));
    if (write(fd, eq + 1, strlen(eq + 1)) < 0) {
        int err = errno;
        close(fd);
        return setup_fail(e, err, stage, "write \"%s\" to %s: %s", eq + 1, path, strerror(err));
    }
    close(fd);
    return 0;
}

int pod_security_apply(const struct pod_security *ps, const char *const *tmpfs_path, int tmpfs_count,
                       struct setup_error *e)
{
    for (int i = 0; i < ps->sysctl_count; i++)
        if (sysctl_write(ps->sysctl[i], e) < 0)
            return -1;
    if (ps->fs_group < 0)
        return 0;
    for (int i = 0; i < tmpfs_count; i++) {
        struct stat st;
        char stage[96];
        snprintf(stage, sizeof stage, "fsGroup(%s)", tmpfs_path[i]);
        if (stat(tmpfs_path[i], &st) < 0 || chown(tmpfs_path[i], (uid_t)-1, (gid_t)ps->fs_group) < 0 ||
            chmod(tmpfs_path[i], (st.st_mode & 07777) | S_ISGID | 0660) < 0)
            return setup_fail(e, errno, stage, "give %s to group %lld: %s", tmpfs_path[i], ps->fs_group,
                              strerror(errno));
    }
    return 0;
}
