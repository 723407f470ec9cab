import Foundation
import PodJSON
import Synchronization
import Testing

@testable import PodImages

/// The real registries the distribution tests pull from: Tests/integration/test_registry.py
/// `serve` starts Debian's docker-registry plain, with htpasswd and with token auth (and one
/// behind a throttling proxy), pushes the test images with skopeo, prints where they are, and
/// then takes commands (corrupt a blob, kill a registry, copy with skopeo) on stdin. It stops
/// when this test process ends (its stdin closes).
final class RegistryFixture: Sendable {
    let info: JSONValue
    private let channel: Mutex<(input: FileHandle, output: FileHandle, pending: [UInt8])>
    private let process: Process

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Why the registries cannot run here; nil when they can.
    static let unavailableReason: String? = {
        for tool in ["/usr/bin/docker-registry", "/usr/bin/skopeo", "/usr/bin/htpasswd", "/usr/bin/openssl"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            return "needs \(tool) (apt-get install -y docker-registry skopeo apache2-utils openssl): registry tests skipped"
        }
        return nil
    }()

    static var isAvailable: Bool { unavailableReason == nil }

    /// Started once for the whole test run.
    static let shared: Result<RegistryFixture, FixtureError> = {
        do throws(FixtureError) { return .success(try RegistryFixture()) } catch { return .failure(error) }
    }()

    struct FixtureError: Error, CustomStringConvertible {
        var description: String
    }

    static func get() throws -> RegistryFixture { try shared.get() }

    private init() throws(FixtureError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.repositoryRoot + "/Tests/integration/test_registry.py", "serve"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        do { try process.run() } catch { throw FixtureError(description: "cannot start the registry fixture: \(error)") }
        self.process = process
        var pending: [UInt8] = []
        guard let line = Self.readLine(output.fileHandleForReading, pending: &pending),
              let json = try? JSONValue.parse(Array(line.utf8)), json["error"] == nil else {
            throw FixtureError(description: "the registry fixture (test_registry.py serve) did not start")
        }
        info = json
        channel = Mutex((input.fileHandleForWriting, output.fileHandleForReading, pending))
    }

    private static func readLine(_ handle: FileHandle, pending: inout [UInt8]) -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeFirst(newline + 1)
                return line
            }
            let data = handle.availableData
            if data.isEmpty { return nil }
            pending += data
        }
    }

    /// Sends a command and returns the fixture's answer line (`ok`, `error ...`, or JSON).
    @discardableResult
    func command(_ text: String) -> String {
        channel.withLock { channel in
            channel.input.write(Data((text + "\n").utf8))
            return Self.readLine(channel.output, pending: &channel.pending) ?? "error: the fixture ended"
        }
    }

    func address(_ registry: String) -> String { info[registry]?.stringValue ?? "" }
    var user: String { info["user"]?.stringValue ?? "" }
    var password: String { info["password"]?.stringValue ?? "" }

    func image(_ tag: String) -> JSONValue { info["images"]?[tag] ?? .null }
    func digest(_ tag: String) -> Digest? { image(tag)["digest"]?.stringValue.flatMap { Digest($0) } }
    func layerDigests(_ tag: String) -> [Digest] {
        (image(tag)["layers"]?.arrayValue ?? []).compactMap { $0["digest"]?.stringValue.flatMap { Digest($0) } }
    }
}

/// A temporary directory, removed when the test is done with it.
final class TemporaryDirectory {
    let path: String

    init(_ prefix: String = "podd-distribution") {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-XXXXXX").path
        var bytes = Array(template.utf8CString)
        path = bytes.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return template }
            return String(cString: base)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// An auth file as `docker login` writes it.
    func authFile(host: String, user: String, password: String) throws -> String {
        let file = path + "/auth.json"
        let auth = Data("\(user):\(password)".utf8).base64EncodedString()
        try Data("{\"auths\": {\"\(host)\": {\"auth\": \"\(auth)\"}}}".utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    func layout(_ name: String = "layout") throws -> OCILayout { try OCILayout.create(at: path + "/" + name) }
}

/// What a fetch reported, gathered from its progress callback.
final class ProgressLog: Sendable {
    private let events = Mutex<[PullProgress]>([])
    var all: [PullProgress] { events.withLock { $0 } }
    func record(_ event: PullProgress) { events.withLock { $0.append(event) } }

    var done: Set<Digest> {
        Set(all.compactMap { if case let .done(d) = $0 { return d } else { return nil } })
    }
    var skipped: Set<Digest> {
        Set(all.compactMap { if case let .skipped(d) = $0 { return d } else { return nil } })
    }
}

/// The files of a directory tree, by path relative to it.
func filesBelow(_ root: String) -> [String: Data] {
    var out: [String: Data] = [:]
    guard let walker = FileManager.default.enumerator(atPath: root) else { return out }
    while let relative = walker.nextObject() as? String {
        var isDirectory: ObjCBool = false
        let full = root + "/" + relative
        if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
           let data = FileManager.default.contents(atPath: full) {
            out[relative] = data
        }
    }
    return out
}

/// Every suite that uses the shared registry fixture, one test at a time across them all: the
/// fixture's token server counts the tokens it issues, and another suite's pulls running beside
/// a test that counts them made that count wrong (a CI run under load saw 3 for 2).
@Suite(.serialized) enum RegistryFixtureTests {}
