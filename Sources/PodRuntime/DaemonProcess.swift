import Glibc
import PodOS

/// Figures about podd's own process, for /metrics.
public enum DaemonProcess {
    /// podd's resident memory in bytes (VmRSS), nil when it cannot be read.
    public static var residentBytes: Int? { ProcessControl.rss(of: getpid()).map { Int($0) } }
}
