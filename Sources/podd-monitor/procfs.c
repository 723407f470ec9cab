/* procfs.c - see procfs.h. */
#define _GNU_SOURCE
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

pid_t proc_self_hostpid(void)
{
    char buf[32];
    ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return (pid_t)strtol(buf, NULL, 10);
}

int proc_starttime(pid_t hostpid, unsigned long long *starttime)
{
    char path[64], buf[1024], *p;
    ssize_t n;
    int fd, field;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)hostpid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* Field 2 (comm) is in parentheses and may hold spaces or ')': count from the last ')'. */
    p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    /* After ')' comes " S ..." = field 3; step over spaces to reach field 22. */
    for (field = 2; field < 22 && p != NULL; field++)
        p = strchr(p + 1, ' ');
    if (p == NULL)
        return -1;
    *starttime = strtoull(p + 1, NULL, 10);
    return 0;
}
