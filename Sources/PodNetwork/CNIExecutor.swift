import Glibc
import PodJSON
import PodOS
import Synchronization

/// Runs CNI operations (spec 1.0.0) for pods: ADD through a list's plugins in order, each
/// given the previous one's result; DEL in reverse order, each given the ADD's final result;
/// CHECK in order likewise. Never two operations on one pod (container ID) at once: a second
/// waits for the first.
public final class CNIExecutor: Sendable {
    /// Where plugin binaries are looked for, in order (CNI_PATH).
    public let binDirectories: [String]
    private let busy = Mutex<Set<String>>([])

    public init(binDirectories: [String]) {
        self.binDirectories = binDirectories
    }

    /// The plugin binary for `type`, or nil.
    public func findPlugin(_ type: String) -> String? {
        for dir in binDirectories {
            let path = dir + "/" + type
            if access(path, X_OK) == 0 && !FileSystem.isDirectory(path) { return path }
        }
        return nil
    }

    /// Runs ADD through the list. Every plugin's binary is found before the first runs, so
    /// that a missing one costs nothing to undo. On a plugin's failure, what the list did so
    /// far is undone (DEL through the whole list with the last result, as the spec asks) and
    /// the plugin's error thrown. `onResult` sees each intermediate result (podd saves them:
    /// a crash mid-ADD still leaves a DEL to run).
    public func add(_ attachment: CNIAttachment, onResult: (JSONValue) -> Void = { _ in }) throws(CNIError) -> CNIResult {
        try exclusively(attachment.containerID) { () throws(CNIError) -> CNIResult in
            let steps = try attachment.config.types.enumerated().filter { !Self.passesOver($0.element, attachment) }
                .map { step throws(CNIError) -> (Int, String) in
                    guard let path = findPlugin(step.element) else { throw .pluginMissing(type: step.element, directories: binDirectories) }
                    return (step.offset, path)
                }
            var previous: JSONValue? = nil
            var times: [CNIResult.PluginTime] = []
            for (i, path) in steps {
                do throws(CNIError) {
                    let started = RuntimeMonotonic.now()
                    defer { times.append(.init(type: attachment.config.types[i], seconds: RuntimeMonotonic.now() - started)) }
                    let output = try invoke(path, type: attachment.config.types[i], command: "ADD", attachment: attachment,
                                            stdin: attachment.config.stdinConfig(plugin: i, runtimeConfig: attachment.runtimeConfig,
                                                                                 prevResult: previous))
                    let value: JSONValue
                    do throws(DocumentParseError) { value = try JSONValue.parse(output) } catch {
                        throw CNIError.exec(type: attachment.config.types[i], operation: "add", message: "its result is not JSON: \(error)")
                    }
                    previous = value
                    onResult(value)
                } catch {
                    var undo = attachment
                    undo.result = previous
                    _ = runDelete(undo)
                    throw error
                }
            }
            guard let previous else { throw .runtime("CNI ADD gave no result") }
            var result = try CNIResult(json: previous)
            result.pluginTimes = times
            return result
        }
    }

    /// Runs DEL through the list in reverse, with the saved ADD result. Idempotent, as the
    /// spec requires of plugins: deleting what is already gone succeeds. Every plugin is run
    /// even when one fails; the first failure is thrown. A plugin whose binary is gone has
    /// nothing of its own to undo that podd could reach: it is passed over.
    public func delete(_ attachment: CNIAttachment) throws(CNIError) {
        try exclusively(attachment.containerID) { () throws(CNIError) in
            if let error = runDelete(attachment) { throw error }
        }
    }

    /// Runs CHECK through the list (when the list allows it), with the saved ADD result:
    /// re-adopting a pod after a podd restart finds out whether its network is still whole.
    public func check(_ attachment: CNIAttachment) throws(CNIError) {
        guard !attachment.config.disableCheck, let result = attachment.result,
              attachment.config.cniVersion != "0.3.0", attachment.config.cniVersion != "0.3.1" else { return }
        try exclusively(attachment.containerID) { () throws(CNIError) in
            for (i, type) in attachment.config.types.enumerated() where !Self.passesOver(type, attachment) {
                guard let path = findPlugin(type) else { throw .pluginMissing(type: type, directories: binDirectories) }
                do throws(CNIError) {
                    _ = try invoke(path, type: type, command: "CHECK", attachment: attachment,
                                   stdin: attachment.config.stdinConfig(plugin: i, runtimeConfig: attachment.runtimeConfig, prevResult: result))
                } catch {
                    if Self.isPortmapIPv6CheckBug(error) { continue }
                    throw error
                }
            }
        }
    }

    /// portmap with no port to map: its ADD hands back the previous result unchanged and its
    /// DEL finds nothing of its own, but each costs a process start (and the DEL a few
    /// iptables runs) on every pod's path, so a pod without hostPorts passes it over, ADD,
    /// CHECK and DEL alike (the decision rests on the saved runtimeConfig, so all three agree).
    static func passesOver(_ type: String, _ attachment: CNIAttachment) -> Bool {
        type == "portmap" && (attachment.runtimeConfig["portMappings"]?.arrayValue ?? []).isEmpty
    }

    /// portmap up to 1.2 (Debian 12 ships 1.1.1) checks IPv6 rules that its ADD never made
    /// for a pod without an IPv6 address, and fails every CHECK of a pod with hostPorts
    /// (containernetworking/plugins#819): that one answer is not a broken network.
    static func isPortmapIPv6CheckBug(_ error: CNIError) -> Bool {
        guard case let .plugin(type, "check", _, message, _) = error, type == "portmap" else { return false }
        return message.contains("could not check ipv6")
    }

    private func runDelete(_ attachment: CNIAttachment) -> CNIError? {
        var first: CNIError?
        for (i, type) in attachment.config.types.enumerated().reversed() where !Self.passesOver(type, attachment) {
            guard let path = findPlugin(type) else { continue }
            do throws(CNIError) {
                _ = try invoke(path, type: type, command: "DEL", attachment: attachment,
                               stdin: attachment.config.stdinConfig(plugin: i, runtimeConfig: attachment.runtimeConfig,
                                                                    prevResult: attachment.result))
            } catch {
                if first == nil { first = error }
            }
        }
        return first
    }

    /// Runs one plugin; returns its stdout when it succeeded, throws its error otherwise.
    private func invoke(_ path: String, type: String, command: String, attachment: CNIAttachment,
                        stdin: [UInt8]) throws(CNIError) -> [UInt8] {
        let operation = command.lowercased()
        var env = [
            "CNI_COMMAND=\(command)",
            "CNI_CONTAINERID=\(attachment.containerID)",
            "CNI_NETNS=\(attachment.netns)",
            "CNI_IFNAME=\(attachment.ifName)",
            "CNI_PATH=\(binDirectories.joined(separator: ":"))",
            // Plugins run iptables, ip and the like.
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        if !attachment.args.isEmpty { env.append("CNI_ARGS=\(attachment.argsString)") }
        let outcome: CNIPluginProcess.Outcome
        do throws(OSError) {
            outcome = try CNIPluginProcess(path: path, environment: env, input: stdin).run()
        } catch {
            throw .exec(type: type, operation: operation, message: error.description)
        }
        guard outcome.status != 0 else { return outcome.stdout }
        // The error object, verbatim (spec: code, msg, details), or whatever it said.
        if let value = try? JSONValue.parse(outcome.stdout), let msg = value["msg"]?.stringValue {
            throw .plugin(type: type, operation: operation, code: value["code"]?.intValue, message: msg,
                          details: value["details"]?.stringValue)
        }
        let text = String(decoding: outcome.stderr.isEmpty ? outcome.stdout : outcome.stderr, as: UTF8.self)
            .trimmingCharacters(in: " \n")
        throw .plugin(type: type, operation: operation, code: nil,
                      message: text.isEmpty ? "exit status \(outcome.status)" : text, details: nil)
    }

    /// Runs `body` while no other operation runs for `key`.
    private func exclusively<T>(_ key: String, _ body: () throws(CNIError) -> T) throws(CNIError) -> T {
        while true {
            let taken = busy.withLock { set in set.insert(key).inserted }
            if taken { break }
            usleep(2_000)
        }
        defer { _ = busy.withLock { $0.remove(key) } }
        return try body()
    }
}

extension String {
    /// The string without the characters of `set` at either end.
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
