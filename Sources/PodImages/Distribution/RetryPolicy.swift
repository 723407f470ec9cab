/// How often an idempotent GET is tried again after the connection failed (refused, reset,
/// timed out, cut short), and how long to wait between: a registry restarting or a load
/// balancer dropping a connection is common, and a new attempt costs little.
struct RetryPolicy: Sendable {
    /// Waits before the second, third, ... attempt.
    var delays: [Duration]

    static let standard = RetryPolicy(delays: [.milliseconds(200), .milliseconds(800)])

    var attempts: Int { delays.count + 1 }

    /// Runs `operation`, again after a retryable `TransportError` while attempts remain.
    func run<Result>(_ operation: () async throws -> Result) async throws -> Result {
        var attempt = 0
        while true {
            do {
                return try await operation()
            } catch let error as TransportError where error.isRetryable && attempt < delays.count {
                try await Task.sleep(for: delays[attempt])
                attempt += 1
            }
        }
    }
}
