import PodModel

/// The pod named by `NAME` or `pod/NAME`, as logs, exec, attach and debug take it.
func podName(_ argument: String, verb: String) throws(PodctlError) -> String {
    guard argument.contains("/") else { return argument }
    let parts = argument.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2, ResourceArguments.resource(String(parts[0])) == .pods, !parts[1].isEmpty else {
        throw PodctlError("podctl \(verb) takes a pod: NAME or pod/NAME, not \"\(argument)\"")
    }
    return String(parts[1])
}

/// The container to use when none is named, as kubectl picks it: the only one; else the one
/// the kubectl.kubernetes.io/default-container annotation names; else the first, with a
/// note on stderr.
func defaultContainer(of pod: JSONValue) -> String? {
    let containers = pod["spec"]["containers"].array.map { $0["name"].string }
    guard containers.count > 1 else { return containers.first }
    var chosen = containers[0]
    let annotated = pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"].string
    if !annotated.isEmpty, containers.contains(annotated) { chosen = annotated }
    var all = containers
    all += pod["spec"]["initContainers"].array.map { $0["name"].string + " (init)" }
    all += pod["spec"]["ephemeralContainers"].array.map { $0["name"].string + " (ephem)" }
    Output.error("Defaulted container \"\(chosen)\" out of: \(all.joined(separator: ", "))")
    return chosen
}
