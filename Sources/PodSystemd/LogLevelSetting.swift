import Logging
import Synchronization

/// podd's log level, shared by every logger: a config reload (SIGHUP) changes it for all
/// loggers at once, including copies held by pods' controllers.
public final class LogLevelSetting: Sendable {
    private let raw = Atomic<UInt8>(2)

    public init(_ level: Logger.Level) { self.level = level }

    public var level: Logger.Level {
        get { Self.levels[Int(raw.load(ordering: .relaxed))] }
        set { raw.store(UInt8(Self.levels.firstIndex(of: newValue) ?? 2), ordering: .relaxed) }
    }

    private static let levels: [Logger.Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]
}

/// Any handler, its level taken from a shared `LogLevelSetting` (so a reload reaches it).
public struct SharedLevelLogHandler<Inner: LogHandler>: LogHandler {
    public var inner: Inner
    public let setting: LogLevelSetting

    public init(_ inner: Inner, setting: LogLevelSetting) {
        self.inner = inner
        self.inner.logLevel = .trace   // the filtering happens here, by the shared level
        self.setting = setting
    }

    public var logLevel: Logger.Level {
        get { setting.level }
        set { setting.level = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) { inner.log(event: event) }
}
