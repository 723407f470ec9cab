import Glibc
import PodJSON
import PodOS
import Synchronization
import Testing

@testable import PodNetwork

/// The executor against fake plugins (shell scripts in a scratch CNI_PATH): ADDs of two pods
/// run at once, every plugin's time is reported, and a plugin's error object comes back
/// verbatim.
@Suite struct CNIExecutorTests {
    /// A scratch directory of plugin scripts, removed at the end.
    final class PluginDirectory {
        let path: String

        init() throws {
            path = "/tmp/podd-cni-test-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            guard mkdir(path, 0o700) == 0 else { throw OSError.last("mkdir \(path)") }
        }

        func write(_ name: String, _ script: String) throws {
            try FileSystem.write(path + "/" + name, Array(script.utf8))
            chmod(path + "/" + name, 0o755)
        }

        deinit { try? FileSystem.removeTree(path) }
    }

    static let result = #"{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"10.0.0.2/24","interface":0}]}"#

    static func attachment(_ id: String, types: [String]) throws -> CNIAttachment {
        let plugins = types.map { #"{"type":"\#($0)"}"# }.joined(separator: ",")
        let list = try CNIConfigList(bytes: Array(#"{"cniVersion":"1.0.0","name":"t","plugins":[\#(plugins)]}"#.utf8), source: "t")
        return CNIAttachment(containerID: id, netns: "/proc/self/ns/net", args: [], runtimeConfig: JSONObject(), config: list)
    }

    @Test func addsOfTwoPodsRunAtOnce() throws {
        let dir = try PluginDirectory()
        // Each ADD waits (up to 20 s) until the other pod's ADD has started too: were the
        // two run one after the other, the first would give up and fail.
        try dir.write("meet", """
            #!/bin/sh
            cat >/dev/null
            d=$(dirname "$0")
            touch "$d/started.$CNI_CONTAINERID"
            i=0
            while [ "$(ls "$d" | grep -c '^started\\.')" -lt 2 ]; do
              i=$((i+1))
              if [ $i -gt 2000 ]; then echo '{"cniVersion":"1.0.0","code":11,"msg":"the other ADD never started"}'; exit 1; fi
              sleep 0.01
            done
            echo '\(Self.result)'
            """)
        let executor = CNIExecutor(binDirectories: [dir.path])
        let outcomes = Mutex<[String: String]>([:])
        let ids = ["pod-a", "pod-b"]
        let threads = try ids.map { id in
            let attachment = try Self.attachment(id, types: ["meet"])
            return TestThread {
                let text: String
                do throws(CNIError) { text = try executor.add(attachment).podIPs.joined() } catch { text = "\(error)" }
                outcomes.withLock { $0[id] = text }
            }
        }
        threads.forEach { $0.join() }
        #expect(outcomes.withLock { $0 } == ["pod-a": "10.0.0.2", "pod-b": "10.0.0.2"])
    }

    @Test func everyPluginsTimeIsReportedInOrder() throws {
        let dir = try PluginDirectory()
        try dir.write("first", "#!/bin/sh\ncat >/dev/null\necho '\(Self.result)'\n")
        try dir.write("second", "#!/bin/sh\ncat >/dev/null\necho '\(Self.result)'\n")
        let result = try CNIExecutor(binDirectories: [dir.path]).add(Self.attachment("pod", types: ["first", "second"]))
        #expect(result.pluginTimes.map(\.type) == ["first", "second"])
        #expect(result.pluginTimes.allSatisfy { $0.seconds > 0 })
        #expect(result.pluginTimesText.hasPrefix("first "))
    }

    @Test func aPluginsErrorComesBackVerbatimAndTheListIsUndone() throws {
        let dir = try PluginDirectory()
        try dir.write("good", """
            #!/bin/sh
            cat >/dev/null
            echo "$CNI_COMMAND" >> "$(dirname "$0")/good.log"
            [ "$CNI_COMMAND" = ADD ] && echo '\(Self.result)'
            exit 0
            """)
        try dir.write("bad", """
            #!/bin/sh
            cat >/dev/null
            [ "$CNI_COMMAND" = DEL ] && exit 0
            echo '{"cniVersion":"1.0.0","code":7,"msg":"no such bridge","details":"podd9"}'
            exit 1
            """)
        let executor = CNIExecutor(binDirectories: [dir.path])
        #expect(throws: CNIError.plugin(type: "bad", operation: "add", code: 7, message: "no such bridge", details: "podd9")) {
            try executor.add(Self.attachment("pod", types: ["good", "bad"]))
        }
        #expect(FileSystem.readString(dir.path + "/good.log") == "ADD\nDEL\n")
    }
}

/// A thread of its own (the executor blocks in waitpid).
final class TestThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: () -> Void

    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            let me = Unmanaged<TestThread>.fromOpaque(raw).takeRetainedValue()
            me.body()
            return nil
        }, context)
    }

    func join() { pthread_join(handle, nil) }
}
