import Glibc
import PodModel
import PodOS
import PodRuntime
import Testing

/// Reading a container's CRI log files as `podctl logs` prints them: block by block, across
/// rotated files, from the end for a tail.
@Suite struct ContainerLogStreamTests {
    /// A log directory in /tmp with the given files (name to CRI lines), removed afterwards.
    private final class LogDirectory {
        let path: String

        init(_ files: [String: [String]]) throws {
            var template = Array("/tmp/podd-logtest-XXXXXX".utf8CString)
            let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
            try #require(made != nil)
            path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            for (name, lines) in files {
                try FileSystem.write(path + "/" + name, Array(lines.map { $0 + "\n" }.joined().utf8))
            }
        }

        deinit { try? FileSystem.removeTree(path) }
    }

    private static let reactor: Reactor? = try? Reactor(onFailure: { _ in })

    private func line(_ second: Int, _ text: String, tag: String = "F", stream: String = "stdout") -> String {
        "2026-12-03T10:00:\(second < 10 ? "0" : "")\(second).000000000Z \(stream) \(tag) \(text)"
    }

    private func read(_ path: String, _ options: CRILogOptions = CRILogOptions()) async throws -> String {
        let reactor = try #require(Self.reactor)
        let stream = try #require(ContainerLogStream(path: path, options: options, follow: false, reactor: reactor) { false })
        var out: [UInt8] = []
        var chunks = 0
        while let chunk = await stream.next() {
            #expect(chunk.count <= 2 * ContainerLogStream.blockSize)
            out += chunk
            chunks += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func rotatedFilesComeFirstInNameOrder() throws {
        let dir = try LogDirectory(["0.log": [], "0.log.20261203-100002.000000": [], "0.log.20261203-100001.000000": [],
                                    "1.log": [], "0.log.tmp": []])
        #expect(ContainerLogFiles.list(dir.path + "/0.log") == [
            dir.path + "/0.log.20261203-100001.000000", dir.path + "/0.log.20261203-100002.000000", dir.path + "/0.log",
        ])
    }

    @Test func readsEveryFileOfTheRunInOrderAndJoinsPartialLines() async throws {
        let dir = try LogDirectory([
            "0.log.20261203-100001.000000": [line(1, "one"), line(2, "tw", tag: "P")],
            "0.log": [line(3, "o"), line(4, "three", stream: "stderr")],
        ])
        #expect(try await read(dir.path + "/0.log") == "one\ntwo\nthree\n")
        var stdout = CRILogOptions()
        stdout.stream = "stdout"
        #expect(try await read(dir.path + "/0.log", stdout) == "one\ntwo\n")
        var stamped = CRILogOptions()
        stamped.timestamps = true
        #expect(try await read(dir.path + "/0.log", stamped).hasPrefix("2026-12-03T10:00:01.000000000Z one\n2026-12-03T10:00:02.000000000Z two\n"))
    }

    @Test func tailStartsFromTheEndAcrossRotations() async throws {
        let dir = try LogDirectory([
            "0.log.20261203-100001.000000": (0..<5).map { line($0, "old \($0)") },
            "0.log": [line(5, "new 5"), line(6, "par", tag: "P"), line(7, "tial")] + (8..<10).map { line($0, "new \($0)") },
        ])
        var options = CRILogOptions()
        options.tailLines = 2
        #expect(try await read(dir.path + "/0.log", options) == "new 8\nnew 9\n")
        options.tailLines = 3
        #expect(try await read(dir.path + "/0.log", options) == "partial\nnew 8\nnew 9\n")
        options.tailLines = 6
        #expect(try await read(dir.path + "/0.log", options) == "old 3\nold 4\nnew 5\npartial\nnew 8\nnew 9\n")
        options.tailLines = 100
        #expect(try await read(dir.path + "/0.log", options).split(separator: "\n").count == 9)
        options.tailLines = 0
        #expect(try await read(dir.path + "/0.log", options) == "")
    }

    @Test func sinceAndLimitBytes() async throws {
        let dir = try LogDirectory([
            "0.log.20261203-100001.000000": (0..<5).map { line($0, "line \($0)") },
            "0.log": (5..<10).map { line($0, "line \($0)") },
        ])
        var since = CRILogOptions()
        since.since = Timestamp(rfc3339: "2026-12-03T10:00:04Z")
        #expect(try await read(dir.path + "/0.log", since) == (4..<10).map { "line \($0)\n" }.joined())
        var limited = CRILogOptions()
        limited.limitBytes = 10
        #expect(try await read(dir.path + "/0.log", limited) == "line 0\nlin")
    }

    @Test func aLargeLogComesInBoundedChunks() async throws {
        let lines = (0..<40_000).map { line($0 % 60, "x \($0) " + String(repeating: "y", count: 40)) }
        let dir = try LogDirectory(["0.log": lines])
        let text = try await read(dir.path + "/0.log")
        #expect(text.split(separator: "\n").count == 40_000)
        var tail = CRILogOptions()
        tail.tailLines = 1
        #expect(try await read(dir.path + "/0.log", tail) == "x 39999 " + String(repeating: "y", count: 40) + "\n")
    }

    @Test func noFileNoStream() throws {
        let dir = try LogDirectory([:])
        let reactor = try #require(Self.reactor)
        #expect(ContainerLogStream(path: dir.path + "/0.log", options: CRILogOptions(), follow: false, reactor: reactor) { false } == nil)
    }
}
