/// Kubernetes' CrashLoopBackOff schedule: the first restart happens at once, later ones wait
/// `initial`, doubling up to `max`; a run that lasted `resetAfter` or longer starts the
/// schedule again. Durations are in seconds (Double) so tests can shorten them.
public struct RestartBackoff: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        public var initial: Double
        public var max: Double
        public var resetAfter: Double

        public init(initial: Double = 10, max: Double = 300, resetAfter: Double = 600) {
            self.initial = initial
            self.max = max
            self.resetAfter = resetAfter
        }

        /// Kubernetes' defaults: 10 s doubling to 5 min, reset after 10 min of running.
        public static let kubernetes = Settings()
    }

    public let settings: Settings
    /// The delay before the next restart; nil until the first restart.
    private var previous: Double?

    public init(_ settings: Settings) { self.settings = settings }

    /// The delay to wait before restarting something that has just stopped after running
    /// for `ranFor` seconds, and the schedule advanced past it.
    public mutating func next(ranFor: Double) -> Double {
        if ranFor >= settings.resetAfter { previous = nil }
        let delay: Double
        switch previous {
        case nil: delay = 0
        case 0?: delay = settings.initial
        case let p?: delay = Swift.min(p * 2, settings.max)
        }
        previous = Swift.min(delay, settings.max)
        return previous ?? 0
    }
}
