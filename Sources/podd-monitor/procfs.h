/* procfs.h - facts about processes read from the host's /proc.
 *
 * The monitor never remounts /proc for itself, so /proc is the one podd sees and the PIDs
 * read through it are podd's ("host") PIDs, even when the monitor is PID 1 of the pod's
 * own PID namespace and fork() returns PIDs of that namespace.
 */
#ifndef PODD_MONITOR_PROCFS_H
#define PODD_MONITOR_PROCFS_H

#include <sys/types.h>

/* The caller's PID as podd sees it (readlink /proc/self), or -1. */
pid_t proc_self_hostpid(void);

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot): with the PID it names
 * one process for good, which a bare PID cannot after reuse. Returns 0 on success. */
int proc_starttime(pid_t hostpid, unsigned long long *starttime);

#endif
