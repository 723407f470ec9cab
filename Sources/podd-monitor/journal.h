/* journal.h - container output forwarded to the systemd journal, line by line.
 *
 * The monitor speaks journald's native protocol itself (one datagram per entry to
 * /run/systemd/journal/socket: "KEY=VALUE\n" fields, binary-safe for MESSAGE), because it
 * is static (Debian ships no libsystemd.a) and because forwarding must go on while podd is
 * away: the monitor, not podd, holds the containers' output. An entry carries the fields
 * podd asked for at spawn (POD_NAME, POD_NAMESPACE, POD_UID, CONTAINER_NAME, CONTAINER_ID,
 * SYSLOG_IDENTIFIER...), then PRIORITY (6 for stdout, 3 for stderr) and MESSAGE.
 *
 * Forwarding never blocks the monitor: when journald is slow (EAGAIN) or gone, the line is
 * dropped from the journal (the CRI log file still has it).
 */
#ifndef PODD_MONITOR_JOURNAL_H
#define PODD_MONITOR_JOURNAL_H

#include <stddef.h>

#include "protocol.h"

struct journal_sink;

/* Whether VALUE is a valid `journal.field` ("KEY=VALUE", KEY of A-Z, 0-9 and '_' not
 * starting with '_', VALUE without a newline). */
int journal_field_valid(const char *value);

/* A sink for the container a spawn message describes, from its `journal` (the socket
 * path) and `journal.field` keys; NULL when it asks for no forwarding (or memory is short:
 * forwarding is best effort). Free with journal_sink_free. */
struct journal_sink *journal_sink_new(const struct msg *spawn);
void journal_sink_free(struct journal_sink *s);

/* Send one line (TEXT: LEN bytes, no newline needed) with PRIORITY. */
void journal_send(const struct journal_sink *s, int priority, const char *text, size_t len);

#endif
