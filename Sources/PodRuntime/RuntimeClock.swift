import Glibc
import PodModel

/// The runtime's only clock readings. The lifecycle state machine never reads a clock: the
/// runtime stamps each event it feeds it with `now()`.
public enum RuntimeClock {
    /// Wall-clock time, for status timestamps.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanoseconds: Int32(ts.tv_nsec))
    }

    /// Monotonic seconds, for timeouts.
    public static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
