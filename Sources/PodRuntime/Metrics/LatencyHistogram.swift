import Synchronization

/// A Prometheus histogram of durations in seconds (cumulative buckets, sum, count), safe to
/// observe from any thread.
public final class LatencyHistogram: Sendable {
    public let name: String
    public let help: String
    /// Upper bounds of the buckets, seconds.
    public let bounds: [Double]
    private let state: Mutex<(counts: [UInt64], sum: Double, count: UInt64)>

    public init(name: String, help: String, bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]) {
        self.name = name
        self.help = help
        self.bounds = bounds
        self.state = Mutex((Array(repeating: 0, count: bounds.count), 0, 0))
    }

    public func observe(_ seconds: Double) {
        state.withLock { s in
            for (i, bound) in bounds.enumerated() where seconds <= bound { s.counts[i] += 1 }
            s.sum += seconds
            s.count += 1
        }
    }

    /// The histogram in Prometheus' text format (version 0.0.4).
    public var text: String {
        let s = state.withLock { $0 }
        var out = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (i, bound) in bounds.enumerated() { out += "\(name)_bucket{le=\"\(bound)\"} \(s.counts[i])\n" }
        out += "\(name)_bucket{le=\"+Inf\"} \(s.count)\n\(name)_sum \(s.sum)\n\(name)_count \(s.count)\n"
        return out
    }

    /// podd's API request latency, every request (streams until their head is answered).
    public static let apiRequests = LatencyHistogram(name: "podd_api_request_duration_seconds",
                                                     help: "Time from a request's arrival to its answer.")
    /// Time from a pod's creation to all its containers running (kubelet's pod start SLI).
    public static let podStart = LatencyHistogram(name: "podd_pod_start_duration_seconds",
                                                  help: "Time from a pod's creation to every app container running.")
}
