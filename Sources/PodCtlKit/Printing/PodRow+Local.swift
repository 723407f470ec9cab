import PodModel

extension PodRow {
    /// A row as podctl prints it now, on this machine (PodModel's `PodRow`, shared with podd's
    /// server-side tables).
    public init(pod: JSONValue, now: Double = Clock.now()) {
        self.init(pod: pod, now: now, localNode: { LocalHost.name })
    }
}
