import PodModel
import PodRuntime

/// `GET .../pods/NAME/log`: a container's output from its CRI log files, with Kubernetes'
/// options and error messages, streamed from disk as the client reads it. With follow, the
/// response goes on until the container's run ends or the client goes away.
enum PodLogs {
    static func respond(_ r: APIRequest, registry: PodRegistry, key: PodRegistry.Key) async throws(StatusError) -> APIResponse {
        guard let pod = await registry.get(key), let controller = await registry.controller(key) else { throw .notFound(key.name) }
        let names = pod.spec.containers.map(\.name)
        let all = names + pod.spec.initContainers.map(\.name) + pod.spec.ephemeralContainers.map(\.name)
        let container: String
        if let c = r.queryValue("container"), !c.isEmpty {
            guard all.contains(c) else {
                throw .badRequest("container \(c) is not valid for pod \(key.name)")
            }
            container = c
        } else if names.count == 1, let only = names.first {
            container = only
        } else {
            throw .badRequest("a container name must be specified for pod \(key.name), choose one of: [\(all.joined(separator: " "))]")
        }
        var options = CRILogOptions()
        options.timestamps = r.queryBool("timestamps")
        // A value that is no number is the query's decoding failing (400); a number out of
        // range is ValidatePodLogOptions refusing it, answered as the API server does (422
        // Invalid, every problem at once).
        var invalid: [(field: String, text: String)] = []
        func integer(_ name: String) throws(StatusError) -> Int64? {
            guard let text = r.queryValue(name) else { return nil }
            guard let n = Int64(text) else { throw .badRequest("\(name): invalid value \"\(text)\": must be an integer") }
            return n
        }
        if let n = try integer("tailLines") {
            if n < 0 { invalid.append(("tailLines", "Invalid value: \(n): must be greater than or equal to 0")) }
            options.tailLines = Int(clamping: n)
        }
        if let n = try integer("limitBytes") {
            if n < 1 { invalid.append(("limitBytes", "Invalid value: \(n): must be greater than 0")) }
            options.limitBytes = Int(clamping: n)
        }
        let sinceSeconds = try integer("sinceSeconds")
        if let s = r.queryValue("sinceTime") {
            guard let t = Timestamp(rfc3339: s) else { throw .badRequest("sinceTime: invalid value \"\(s)\": must be RFC 3339") }
            options.since = t
        }
        if let n = sinceSeconds {
            if options.since != nil {
                invalid.append(("", "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"))
            } else if n < 1 {
                invalid.append(("sinceSeconds", "Invalid value: \(n): must be greater than 0"))
            } else {
                options.since = RuntimeClock.now().adding(seconds: -Double(n))
            }
        }
        if !invalid.isEmpty {
            let each = invalid.map { "\($0.field): \($0.text)" }
            let detail = each.count == 1 ? each[0] : "[" + each.joined(separator: ", ") + "]"
            throw StatusError(code: 422, reason: "Invalid", message: "PodLogOptions \"\(key.name)\" is invalid: \(detail)",
                              name: key.name, kind: "PodLogOptions",
                              causes: invalid.map { StatusCause(reason: $0.text.hasPrefix("Forbidden") ? "FieldValueForbidden" : "FieldValueInvalid",
                                                                message: $0.text, field: $0.field) })
        }
        // PodLogOptions.stream (Kubernetes 1.32): one stream only, as podctl debug follows
        // stdout and stderr apart.
        switch r.queryValue("stream") {
        case nil, "", "All": break
        case "Stdout": options.stream = "stdout"
        case "Stderr": options.stream = "stderr"
        case let other?: throw .badRequest("stream: Unsupported value: \"\(other)\": supported values: \"All\", \"Stdout\", \"Stderr\"")
        }
        if options.stream != nil && options.tailLines != nil {
            throw .badRequest("tailLines: Forbidden: tailLines is not supported when stream is Stdout or Stderr")
        }
        let previous = r.queryBool("previous")
        let follow = r.queryBool("follow")
        guard let log = await controller.openLog(container: container, previous: previous, options: options, follow: follow) else {
            if previous {
                throw .badRequest("previous terminated container \"\(container)\" in pod \"\(key.name)\" not found")
            }
            let waiting = (pod.status.containerStatuses + pod.status.initContainerStatuses + pod.status.ephemeralContainerStatuses)
                .first { $0.name == container }?.state.waiting?.reason ?? "ContainerCreating"
            // kubelet's words for the two common pull failures (validateContainerLogStatus).
            let why = switch waiting {
            case "ErrImagePull": "image can't be pulled"
            case "ImagePullBackOff": "trying and failing to pull image"
            default: waiting
            }
            throw .badRequest("container \"\(container)\" in pod \"\(key.name)\" is waiting to start: \(why)")
        }
        // Read from disk a block at a time as the client takes it (ContainerLogStream).
        return .stream(status: .ok, contentType: "text/plain", body: ResponseChunks(next: { await log.next() }))
    }
}
