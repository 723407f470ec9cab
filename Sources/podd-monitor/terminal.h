/* terminal.h - pseudo-terminals of a container's own devpts, and passing descriptors.
 *
 * A container (and an exec session with a TTY) gets its terminal from the devpts instance
 * mounted in the container's /dev/pts, never from the host's: the terminal's name, its
 * group and the ptys `ls /dev/pts` shows are the container's, as with runc and crun.
 */
#ifndef PODD_MONITOR_TERMINAL_H
#define PODD_MONITOR_TERMINAL_H

#include "setup_error.h"

/* Opens a new pty pair through ROOTFD/dev/ptmx, ROOTFD being a container's root directory
 * (/proc/PID/root): the path is resolved inside that root, so no symlink of the container
 * can lead elsewhere, and the device must be a ptmx. Pass ROOTFD = -1 for the caller's own
 * /dev/ptmx (a container process after pivot_root). MASTER is non-blocking; both are
 * close-on-exec. Returns 0, or -1 with E filled. */
int pty_open(int rootfd, int *master, int *slave, struct setup_error *e);

/* In a new session's leader: SLAVE becomes stdin, stdout, stderr and the controlling
 * terminal. Returns 0, or -1 with E filled. */
int pty_become_controlling(int slave, struct setup_error *e);

/* Sends FD over the connected AF_UNIX socket SOCK (one byte of data, SCM_RIGHTS). */
int fd_send(int sock, int fd);

/* Receives a descriptor sent by fd_send, without blocking: the descriptor (close-on-exec),
 * or -1. */
int fd_recv(int sock);

#endif
