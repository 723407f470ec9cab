import Logging
import Testing
@testable import PodSystemd

/// The journal entries podd's own log records become (no journald needed: the fields only).
struct JournalLogHandlerTests {
    func fields(_ message: String, _ metadata: Logger.Metadata = [:], level: Logger.Level = .info) -> [String] {
        JournalLogHandler.fields(message: message, level: level, metadata: metadata, identifier: "podd",
                                 file: "PodRuntime/Pods/PodController.swift", function: "admit()", line: 42)
    }

    @Test func standardFieldsComeFirst() {
        let f = fields("hello", level: .warning)
        #expect(Array(f.prefix(6)) == ["MESSAGE=hello", "PRIORITY=4", "SYSLOG_IDENTIFIER=podd",
                                       "CODE_FILE=PodRuntime/Pods/PodController.swift", "CODE_LINE=42", "CODE_FUNC=admit()"])
    }

    @Test func prioritiesFollowSyslog() {
        #expect([Logger.Level.trace, .debug, .info, .notice, .warning, .error, .critical].map(JournalLogHandler.priority)
                == [7, 7, 6, 5, 4, 3, 2])
    }

    @Test func podFromMetadata() {
        let f = fields("started", ["pod": "prod/web", "container": "app", "attempt": "3"])
        #expect(f.contains("POD_NAME=web"))
        #expect(f.contains("POD_NAMESPACE=prod"))
        #expect(f.contains("CONTAINER_NAME=app"))
        #expect(f.contains("ATTEMPT=3"))
    }

    @Test func podFromMessagePrefix() {
        let a = fields("pod default/web: sandbox failed: ENOSPC")
        #expect(a.contains("POD_NAME=web") && a.contains("POD_NAMESPACE=default"))
        let b = fields("pod web: container app started 812 us after spawn was sent")
        #expect(b.contains("POD_NAME=web") && b.contains("CONTAINER_NAME=app"))
        #expect(!b.contains { $0.hasPrefix("POD_NAMESPACE=") })
        let c = fields("podd v0.1 serving on /run/podd/podd.sock")
        #expect(!c.contains { $0.hasPrefix("POD_NAME=") })
    }

    @Test func metadataKeysBecomeValidFieldNames() {
        #expect(JournalLogHandler.fieldName("static.file") == "STATIC_FILE")
        #expect(JournalLogHandler.fieldName("_secret") == "SECRET")
        #expect(JournalLogHandler.fieldName("2x") == "X")
    }

    @Test func statusTextStaysOnOneLine() {
        #expect(ServiceNotifier.oneLine("a\nb") == "a b")
    }

    @Test func sharedLevelReachesEveryHandler() {
        let setting = LogLevelSetting(.info)
        let a = JournalLogHandler(setting: setting)
        var b = SharedLevelLogHandler(StreamLogHandler.standardError(label: "t"), setting: setting)
        #expect(a.logLevel == .info && b.logLevel == .info)
        b.logLevel = .debug
        #expect(a.logLevel == .debug)
        setting.level = .error
        #expect(b.logLevel == .error)
    }
}
