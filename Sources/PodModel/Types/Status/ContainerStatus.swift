/// The status of one container of a pod. Written with every field the Kubernetes API marks
/// required (name, image, imageID, ready, restartCount, state) so official clients decode it.
public struct ContainerStatus: JSONConvertible {
    public var name: String
    public var state: ContainerState
    /// The previous run's end, if it ended; empty otherwise.
    public var lastState: ContainerState
    public var ready: Bool
    public var restartCount: Int32
    public var image: String
    public var imageID: String
    public var containerID: String?
    /// Whether it has started (and passed its startup probe, if any); nil when unknown.
    public var started: Bool?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(
        name: String,
        image: String,
        imageID: String = "",
        state: ContainerState = ContainerState(),
        lastState: ContainerState = ContainerState(),
        ready: Bool = false,
        restartCount: Int32 = 0,
        containerID: String? = nil,
        started: Bool? = nil
    ) {
        self.name = name
        self.state = state
        self.lastState = lastState
        self.ready = ready
        self.restartCount = restartCount
        self.image = image
        self.imageID = imageID
        self.containerID = containerID
        self.started = started
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        let state = reader.decode("state", as: ContainerState.self) ?? ContainerState()
        let lastState = reader.decode("lastState", as: ContainerState.self) ?? ContainerState()
        let ready = reader.bool("ready") ?? false
        let restartCount = reader.int32("restartCount") ?? 0
        let image = reader.string("image") ?? ""
        let imageID = reader.string("imageID") ?? ""
        let containerID = reader.string("containerID")
        let started = reader.bool("started")
        try reader.finish()
        self.init(name: name, image: image, imageID: imageID, state: state, lastState: lastState, ready: ready,
                  restartCount: restartCount, containerID: containerID, started: started)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", .string(name))
        writer.set("state", state.json)
        writer.set("lastState", lastState.json)
        writer.set("ready", .bool(ready))
        writer.set("restartCount", .int(Int64(restartCount)))
        writer.set("image", .string(image))
        writer.set("imageID", .string(imageID))
        writer.set("containerID", nonEmpty: containerID)
        writer.set("started", started)
        return writer.json
    }
}
