import CSystemd
import Glibc

/// The service manager's side channel (sd_notify(3)): readiness, status text, reload and stop
/// announcements, and watchdog pings, for a `Type=notify` unit. Without NOTIFY_SOCKET (podd
/// started by hand, or by a test), every call is a cheap no-op.
public struct ServiceNotifier: Sendable {
    /// Whether a service manager listens (NOTIFY_SOCKET is set).
    public let isActive: Bool
    /// Half the watchdog timeout when the manager asked for pings (WATCHDOG_USEC, and
    /// WATCHDOG_PID naming this process when set): how often to ping, as sd_watchdog_enabled(3)
    /// recommends.
    public let watchdogInterval: Duration?

    public init() {
        isActive = getenv("NOTIFY_SOCKET") != nil
        var usec: UInt64 = 0
        // 0: keep the variables, so that a re-exec of podd (an upgrade in place) finds them.
        if sd_watchdog_enabled(0, &usec) > 0, usec > 0 {
            watchdogInterval = .microseconds(Int64(usec / 2))
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends `lines` (KEY=VALUE each) as one datagram. Returns false when the manager could not
    /// be told (no socket, or the send failed); podd carries on either way.
    @discardableResult
    public func notify(_ lines: [String]) -> Bool {
        guard isActive else { return false }
        return sd_notify(0, lines.joined(separator: "\n")) > 0
    }

    /// READY=1: start-up is complete and the API answers. `status` becomes the unit's status text.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        notify(["READY=1"] + (status.map { ["STATUS=" + Self.oneLine($0)] } ?? []))
    }

    /// STATUS=: the one-line status `systemctl status` shows.
    @discardableResult
    public func status(_ text: String) -> Bool { notify(["STATUS=" + Self.oneLine(text)]) }

    /// RELOADING=1 with the monotonic time of the request (systemd 253+ wants MONOTONIC_USEC
    /// beside it; older versions ignore it). Follow with `ready()` when the reload is done.
    @discardableResult
    public func reloading() -> Bool {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let usec = UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
        return notify(["RELOADING=1", "MONOTONIC_USEC=\(usec)"])
    }

    /// STOPPING=1: shutdown has begun.
    @discardableResult
    public func stopping(status: String? = nil) -> Bool {
        notify(["STOPPING=1"] + (status.map { ["STATUS=" + Self.oneLine($0)] } ?? []))
    }

    /// WATCHDOG=1: podd's work loop is alive.
    @discardableResult
    public func watchdog() -> Bool { notify(["WATCHDOG=1"]) }

    /// A status line must not break the KEY=VALUE framing.
    static func oneLine(_ s: String) -> String {
        String(s.map { $0 == "\n" ? " " : $0 })
    }
}
