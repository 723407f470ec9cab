import Testing
@testable import PodModel

/// An exit the OOM killer caused: the state machine names it OOMKilled, says so in a Warning
/// event, and applies the restart policy as for any failure.
struct OOMLifecycleTests {
    typealias L = PodLifecycle
    let t0 = Timestamp(seconds: 1_000_000)

    func at(_ s: Double) -> Timestamp { t0.adding(seconds: s) }

    func running(_ policy: L.Policy) -> L {
        var m = L(podName: "p", podRef: "p_default(uid)", containers: [.init(name: "app", role: .app)],
                  policy: policy, scope: .container, gracePeriod: 30, backoff: .init(initial: 1, max: 4, resetAfter: 30), now: t0)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("app", containerID: "a"), at: at(0.1))
        return m
    }

    @Test func oomKilledIsTheReasonWithAnEventAndARestart() {
        var m = running(.always)
        let actions = m.handle(.exited("app", exitCode: 137, signal: 9, startedAt: at(0.1), finishedAt: at(2), oomKilled: true), at: at(2))
        #expect(actions.contains { if case let .event(type, reason, _, container) = $0 { type == "Warning" && reason == "OOMKilling" && container == "app" } else { false } })
        // Restarted (the first restart at once, later ones after backoff): the run that
        // ended is the last termination, or the current state while it waits.
        var ended = m.container("app")?.lastTermination
        if case let .terminated(t)? = m.container("app")?.state { ended = t }
        #expect(ended?.reason == "OOMKilled" && ended?.exitCode == 137)
        let later = m.handle(.tick, at: at(4))
        #expect((actions + later).contains(.start("app")))
    }

    @Test func aKillWithoutTheOOMKillerIsAnError() {
        var m = running(.never)
        let actions = m.handle(.exited("app", exitCode: 137, signal: 9, startedAt: at(0.1), finishedAt: at(2)), at: at(2))
        #expect(!actions.contains { if case let .event(_, reason, _, _) = $0 { reason == "OOMKilling" } else { false } })
        if case let .terminated(t)? = m.container("app")?.state { #expect(t.reason == "Error") } else { Issue.record("not terminated") }
    }
}
