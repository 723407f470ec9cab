import Glibc
import PodOS
import Testing

@testable import PodRuntime

/// The end of a failed container's log as its termination message (FallbackToLogsOnError):
/// the last 80 lines of the newest file with anything in it, their last 2 KiB.
@Suite struct TerminationMessageTests {
    private func withLog(_ files: [String], _ body: ([String]) -> Void) {
        let dir = "/tmp/podd-tm-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(dir, 0o755)
        defer { _ = try? FileSystem.removeTree(dir) }
        let paths = files.enumerated().map { "\(dir)/0.log\($0.offset == files.count - 1 ? "" : ".2026120\($0.offset)")" }
        for (path, text) in zip(paths, files) { try? FileSystem.write(path, Array(text.utf8)) }
        body(paths)
    }

    private func cri(_ lines: [String], stream: String = "stdout") -> String {
        lines.map { "2026-12-07T13:00:00.000000000Z \(stream) F \($0)\n" }.joined()
    }

    @Test func theLastEightyLinesOfTheNewestFileWithAnything() {
        withLog([cri((0..<100).map { "old\($0)" }), cri((0..<100).map { "l\($0)" }), ""]) { paths in
            let text = PodController.logTail(paths)
            #expect(text.hasPrefix("l20\n") && text.hasSuffix("l99\n"), "\(text)")
            #expect(text.split(separator: "\n").count == 80)
        }
    }

    @Test func partialRecordsJoinAndTheMessageKeepsTheLastTwoKiB() {
        let long = String(repeating: "é", count: 1500)   // 3,000 bytes, 2-byte characters
        let log = "2026-12-07T13:00:00Z stderr P part-\n2026-12-07T13:00:00Z stderr F end\n" + cri([long])
        withLog([log]) { paths in
            let text = PodController.logTail(paths)
            #expect(text.utf8.count <= 2048 && text.hasSuffix("é\n") && !text.contains("part"), "\(text.utf8.count)")
            #expect(text.unicodeScalars.allSatisfy { $0 == "é" || $0 == "\n" })
        }
        withLog(["2026-12-07T13:00:00Z stderr P part-\n2026-12-07T13:00:00Z stderr F end\n"]) { paths in
            #expect(PodController.logTail(paths) == "part-end\n")
        }
        withLog([""]) { paths in #expect(PodController.logTail(paths) == "") }
    }
}
