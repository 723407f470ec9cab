import PodModel

/// The form of an answer the client asked for in its Accept header: the object itself, a
/// Table of it, or its metadata only. kubectl sends a list with fallbacks
/// (`application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json`):
/// the first form podd serves wins.
enum ResponseForm: Equatable, Sendable {
    case object
    /// A Table of the given meta.k8s.io version.
    case table(apiVersion: String)
    /// PartialObjectMetadata (a get) or PartialObjectMetadataList (a list).
    case metadata(apiVersion: String)

    /// The form for an Accept header; 406 when it names only forms podd does not serve.
    init(accept: String?) throws(StatusError) {
        guard let accept, !accept.isEmpty else {
            self = .object
            return
        }
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingSpaces }
            guard let type = parts.first?.lowercased() else { continue }
            var parameters: [String: String] = [:]
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces }
                if pair.count == 2 { parameters[pair[0].lowercased()] = pair[1] }
            }
            guard type == "application/json" || type == "application/*" || type == "*/*" else { continue }
            guard let asKind = parameters["as"] else {
                self = .object
                return
            }
            guard parameters["g"] == "meta.k8s.io", let version = parameters["v"], version == "v1" || version == "v1beta1" else { continue }
            switch asKind {
            case "Table":
                self = .table(apiVersion: "meta.k8s.io/" + version)
                return
            case "PartialObjectMetadata", "PartialObjectMetadataList":
                self = .metadata(apiVersion: "meta.k8s.io/" + version)
                return
            default: continue
            }
        }
        throw StatusError(code: 406, reason: "NotAcceptable",
                          message: "only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io")
    }

    init(_ r: APIRequest) throws(StatusError) {
        try self.init(accept: r.headers["Accept"].joined(separator: ","))
    }
}
