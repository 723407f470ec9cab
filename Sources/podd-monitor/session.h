/* session.h - exec and attach sessions (docs/monitor-protocol.md, "Sessions").
 *
 * podd opens a session with op=exec or op=attach on the control connection, passing a
 * socket of the session's own (and its stdio pipes); the monitor answers on that socket,
 * and podd closing it ends the session. So a session outlives neither its API client (podd
 * closes it when the client goes) nor podd itself (the kernel closes it).
 */
#ifndef PODD_MONITOR_SESSION_H
#define PODD_MONITOR_SESSION_H

#include <stdint.h>
#include <sys/types.h>

#include "pod.h"

void sessions_init(struct pod *p);

/* op=exec: FDS are the session socket, then (without tty) stdin, stdout, stderr. */
void session_handle_exec(struct pod *p, const struct msg *msg, struct msg_fds *fds);

/* op=attach: FDS are the session socket, then podd's stdout and stderr pipes as the
 * message's stdout=1 / stderr=1 say. */
void session_handle_attach(struct pod *p, const struct msg *msg, struct msg_fds *fds);

/* A child PID ended with STATUS: if it was an exec session's command, report it and
 * return 1; 0 otherwise. */
int session_reaped(struct pod *p, pid_t pid, int status);

/* Container C ended (its output drained): end the attach sessions on it. */
void session_container_exited(struct pod *p, struct container *c);

/* SIGKILL every exec session (op=shutdown). */
void session_shutdown(struct pod *p);

#endif
