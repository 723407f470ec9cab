import Glibc
import Testing
@testable import PodModel

/// docs/lifecycle.md's transition table, driven against the machine row by row: the doc and
/// the code cannot drift apart.
struct PodLifecycleTableTests {
    typealias L = PodLifecycle
    let t0 = Timestamp(seconds: 3_000_000)

    struct Row: Sendable, CustomStringConvertible {
        var from: String
        var events: [String]
        var to: String
        var actions: [String]
        var description: String { "\(from) | \(events.joined(separator: "; ")) | \(to) | \(actions.joined(separator: ", "))" }
    }

    static func rows() throws -> [Row] { try rows(header: "| From | Event | To | Actions |") }

    /// The rows of the table of docs/lifecycle.md under `header`.
    static func rows(header: String) throws -> [Row] {
        let path = String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/")
        let text = try #require(readText("/" + path + "/docs/lifecycle.md"), "docs/lifecycle.md not found")
        guard let start = text.range(of: header) else { return [] }
        var rows: [Row] = []
        for line in text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2) {
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmed }
            guard cells.count == 4 else { continue }
            let actions = cells[3] == "—" ? [] : splitList(cells[3])
            rows.append(Row(from: cells[0], events: cells[1].split(separator: ";").map { $0.trimmed },
                            to: cells[2], actions: actions))
        }
        return rows
    }

    /// "a, probes(x,y), b" -> ["a", "probes(x,y)", "b"] (commas inside parentheses kept).
    static func splitList(_ s: String) -> [String] {
        var out: [String] = []
        var current = ""
        var depth = 0
        for ch in s {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if ch == "," && depth == 0 {
                out.append(current.trimmed)
                current = ""
            } else {
                current.append(ch)
            }
        }
        if !current.trimmed.isEmpty { out.append(current.trimmed) }
        return out
    }

    static func readText(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The table's pod: one app container `c` with both hooks and all three probes.
    func machine() -> L {
        let probe = L.ProbeThresholds(success: 1, failure: 1)
        return L(podName: "p", podRef: "p_default(uid)",
                 containers: [.init(name: "c", role: .app, startupProbe: probe, livenessProbe: probe, readinessProbe: probe,
                                    hasPostStart: true, hasPreStop: true)],
                 policy: .onFailure, scope: .container, gracePeriod: 30,
                 backoff: .init(initial: 10, max: 300, resetAfter: 600), now: t0)
    }

    /// How the table's "From" states are reached.
    static let paths: [String: [String]] = [
        "waiting": [],
        "starting": ["admit"],
        "postStart": ["admit", "started"],
        "running": ["admit", "started", "postStartDone(ok)"],
        "running(started)": ["admit", "started", "postStartDone(ok)", "probe(startup,ok)"],
        "running(ready)": ["admit", "started", "postStartDone(ok)", "probe(startup,ok)", "probe(readiness,ok)"],
        "stopping(preStop)": ["admit", "started", "postStartDone(ok)", "probe(startup,ok)", "probe(readiness,ok)", "delete"],
        "stopping(term)": ["admit", "started", "postStartDone(ok)", "probe(startup,ok)", "probe(readiness,ok)", "delete",
                           "preStopDone(ok)"],
        "stopping(kill)": ["admit", "started", "postStartDone(ok)", "probe(startup,ok)", "probe(readiness,ok)", "delete",
                           "preStopDone(ok)", "tick(deadline)"],
        "backoff": ["admit", "started", "postStartDone(ok)", "exited(1)", "started", "postStartDone(ok)", "exited(1)"],
        "terminated": ["admit", "started", "postStartDone(ok)", "exited(0)"],
    ]

    static func token(_ state: L.State) -> String {
        switch state {
        case .waiting: return "waiting"
        case .backoff: return "backoff"
        case .starting: return "starting"
        case .postStart: return "postStart"
        case let .running(_, started, ready): return ready ? "running(ready)" : started ? "running(started)" : "running"
        case let .stopping(stop): return "stopping(\(stop.phase.rawValue))"
        case .terminated: return "terminated"
        }
    }

    static func token(_ action: L.Action) -> String? {
        switch action {
        case .start: return "start"
        case .runPostStart: return "runPostStart"
        case .runPreStop: return "runPreStop"
        case .terminate: return "terminate"
        case .kill: return "kill"
        case let .probes(_, kinds): return "probes(\(kinds.map { $0.rawValue.lowercased() }.joined(separator: ",")))"
        case .recreateSandbox: return "recreateSandbox"
        case .wake: return nil
        case let .event(_, reason, _, _): return "event:\(reason)"
        case .stopped: return "stopped"
        }
    }

    /// Applies one event of the table's vocabulary; nil for a word it does not know.
    func apply(_ word: String, to m: inout L, clock: inout Timestamp) -> [L.Action]? {
        clock = clock.adding(seconds: 0.1)
        let c = "c"
        switch word {
        case "admit": return m.handle(.admit, at: clock)
        case "started": return m.handle(.started(c, containerID: "id"), at: clock)
        case "startFailed(image)":
            return m.handle(.startFailed(c, reason: "ErrImageNeverPull", message: "no image", terminated: false), at: clock)
        case "startFailed(exec)":
            return m.handle(.startFailed(c, reason: "StartError", message: "exec failed", terminated: true), at: clock)
        case "imagePulled": return m.handle(.imagePulled(c), at: clock)
        case "imagePullFailed": return m.handle(.imagePullFailed(c, image: "x", message: "connection refused"), at: clock)
        case "postStartDone(ok)": return m.handle(.postStartDone(c, ok: true, message: ""), at: clock)
        case "postStartDone(fail)": return m.handle(.postStartDone(c, ok: false, message: "boom"), at: clock)
        case "preStopDone(ok)": return m.handle(.preStopDone(c, ok: true, message: ""), at: clock)
        case "preStopDone(fail)": return m.handle(.preStopDone(c, ok: false, message: "boom"), at: clock)
        case "delete": return m.handle(.delete(deadline: clock.adding(seconds: 30)), at: clock)
        case "delete(0)": return m.handle(.delete(deadline: clock), at: clock)
        case "evict": return m.handle(.evict(message: "Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. "), at: clock)
        case "sandboxLost": return m.handle(.sandboxLost, at: clock)
        case "tick(deadline)":
            guard case let .stopping(stop)? = m.container(c)?.state else { return nil }
            clock = stop.deadline
            return m.handle(.tick, at: clock)
        case "tick(until)":
            guard case let .backoff(until, _, _)? = m.container(c)?.state else { return nil }
            clock = until
            return m.handle(.tick, at: clock)
        default:
            if word.hasPrefix("exited("), let code = Int32(word.dropFirst(7).dropLast()) {
                return m.handle(.exited(c, exitCode: code, signal: 0, startedAt: nil, finishedAt: clock), at: clock)
            }
            if word.hasPrefix("probe("), word.hasSuffix(")") {
                let parts = word.dropFirst(6).dropLast().split(separator: ",")
                guard parts.count == 2, let kind = L.ProbeKind.allCases.first(where: { $0.rawValue.lowercased() == parts[0] }) else { return nil }
                return m.handle(.probeResult(c, kind: kind, ok: parts[1] == "ok", message: "probe said so"), at: clock)
            }
            return nil
        }
    }

    @Test func theTableHasRows() throws {
        #expect(try Self.rows().count >= 25)
    }

    @Test(arguments: try rows())
    func row(_ row: Row) throws {
        var m = machine()
        var clock = t0
        let path = try #require(Self.paths[row.from], "no way to reach \"\(row.from)\" in the test")
        for word in path {
            _ = try #require(apply(word, to: &m, clock: &clock), "unknown event \(word)")
        }
        #expect(Self.token(try #require(m.container("c")?.state)) == row.from, "setting up \(row.from)")
        var actions: [L.Action] = []
        for word in row.events {
            actions = try #require(apply(word, to: &m, clock: &clock), "unknown event \(word)")
        }
        #expect(Self.token(try #require(m.container("c")?.state)) == row.to, "\(row)")
        #expect(actions.compactMap(Self.token) == row.actions, "\(row)")
    }
}

/// docs/lifecycle.md's table of the pod's stages, driven against the machine row by row.
struct PodStageTableTests {
    typealias L = PodLifecycle
    typealias Row = PodLifecycleTableTests.Row
    let t0 = Timestamp(seconds: 3_500_000)

    static func rows() throws -> [Row] {
        try PodLifecycleTableTests.rows(header: "| From stage | Event | To stage | Actions |")
    }

    /// The table's pod: init container i, sidecar s, apps a and b.
    func machine() -> L {
        L(podName: "p", podRef: "p_default(uid)",
          containers: [.init(name: "i", role: .initContainer), .init(name: "s", role: .sidecar),
                       .init(name: "a", role: .app), .init(name: "b", role: .app)],
          policy: .onFailure, scope: .pod, gracePeriod: 30, backoff: .init(initial: 10, max: 300, resetAfter: 600), now: t0)
    }

    static let running = ["admit", "started(i)", "exited(i,0)", "started(s)", "started(a)", "started(b)"]
    static let paths: [String: [String]] = [
        "created": [],
        "initializing": ["admit"],
        "running": running,
        "stoppingForRestart": running + ["exited(a,1)"],
        // The second restart waits out the backoff.
        "restartingAt": running + ["exited(a,1)", "exited(b,143)", "exited(s,143)"] + running.dropFirst()
            + ["exited(a,1)", "exited(b,143)", "exited(s,143)"],
        "finished": running + ["exited(a,0)", "exited(b,0)"],
        "terminating": running + ["delete"],
        "stopped": running + ["delete", "exited(a,143)", "exited(b,143)", "exited(s,143)"],
    ]

    static func token(_ stage: L.Stage) -> String {
        switch stage {
        case .created: return "created"
        case .initializing: return "initializing"
        case .running: return "running"
        case .stoppingForRestart: return "stoppingForRestart"
        case .restartingAt: return "restartingAt"
        case .finished: return "finished"
        case .terminating: return "terminating"
        case .stopped: return "stopped"
        }
    }

    static func token(_ action: L.Action) -> String? {
        switch action {
        case let .start(c): return "start(\(c))"
        case let .runPostStart(c): return "runPostStart(\(c))"
        case let .runPreStop(c): return "runPreStop(\(c))"
        case let .terminate(c): return "terminate(\(c))"
        case let .kill(c): return "kill(\(c))"
        case let .probes(c, kinds): return "probes(\(c):\(kinds.map(\.rawValue).joined(separator: ",")))"
        case .recreateSandbox: return "recreateSandbox"
        case .wake: return nil
        case let .event(_, reason, _, _): return "event:\(reason)"
        case .stopped: return "stopped"
        }
    }

    /// "name(x,y)" -> ["x", "y"]
    static func arguments(_ word: String, _ name: String) -> [String]? {
        guard word.hasPrefix(name + "("), word.hasSuffix(")") else { return nil }
        return word.dropFirst(name.count + 1).dropLast().split(separator: ",").map(String.init)
    }

    func apply(_ word: String, to m: inout L, clock: inout Timestamp) -> [L.Action]? {
        clock = clock.adding(seconds: 0.1)
        switch word {
        case "admit": return m.handle(.admit, at: clock)
        case "sandboxFailed": return m.handle(.sandboxFailed(message: "no space"), at: clock)
        case "sandboxLost": return m.handle(.sandboxLost, at: clock)
        case "delete": return m.handle(.delete(deadline: clock.adding(seconds: 30)), at: clock)
        case "delete(0)": return m.handle(.delete(deadline: clock), at: clock)
        case "evict": return m.handle(.evict(message: "Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. "), at: clock)
        case "tick(deadline)":
            switch m.stage {
            case let .terminating(deadline), let .stoppingForRestart(deadline, _, _): clock = deadline
            default: return nil
            }
            return m.handle(.tick, at: clock)
        case "tick(restart)":
            guard case let .restartingAt(at) = m.stage else { return nil }
            clock = at
            return m.handle(.tick, at: clock)
        default:
            if let args = Self.arguments(word, "started"), args.count == 1 {
                return m.handle(.started(args[0], containerID: args[0]), at: clock)
            }
            if let args = Self.arguments(word, "exited"), args.count == 2, let code = Int32(args[1]) {
                return m.handle(.exited(args[0], exitCode: code, signal: 0, startedAt: nil, finishedAt: clock), at: clock)
            }
            return nil
        }
    }

    @Test func theTableHasRows() throws {
        #expect(try Self.rows().count >= 15)
    }

    @Test(arguments: try rows())
    func row(_ row: Row) throws {
        var m = machine()
        var clock = t0
        let path = try #require(Self.paths[row.from], "no way to reach \"\(row.from)\" in the test")
        for word in path {
            _ = try #require(apply(word, to: &m, clock: &clock), "unknown event \(word)")
        }
        #expect(Self.token(m.stage) == row.from, "setting up \(row.from)")
        var actions: [L.Action] = []
        for word in row.events {
            actions = try #require(apply(word, to: &m, clock: &clock), "unknown event \(word)")
        }
        #expect(Self.token(m.stage) == row.to, "\(row)")
        #expect(actions.compactMap(Self.token) == row.actions, "\(row)")
    }
}

private extension StringProtocol {
    var trimmed: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
