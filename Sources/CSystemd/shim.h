/* CSystemd: the parts of libsystemd podd uses (libsystemd-dev, pkg-config libsystemd).
 * sd-daemon: readiness, status, watchdog and socket activation; sd-journal: sd_journal_sendv
 * (the variadic sd_journal_send cannot be called from Swift). */
#ifndef PODD_CSYSTEMD_SHIM_H
#define PODD_CSYSTEMD_SHIM_H

#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#endif
