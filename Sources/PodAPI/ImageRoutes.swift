import PodModel
import PodRuntime

/// podd's image extension, `/apis/podd.io/v1/images`: import a rootfs tarball (POST, the body
/// is the tarball, plain or gzip, spooled to disk by the server), list (GET), get and remove
/// (GET, DELETE .../images/NAME:TAG).
struct ImageRoutes {
    let images: ImageStore

    /// `/apis/podd.io/v1/images`: GET lists, POST imports.
    func respondToList(_ r: APIRequest) async throws(StatusError) -> APIResponse {
        if r.method == .GET {
            let items = images.list().map(\.json)
            return PodAPIHandler.json(200, .object(JSONObject([("apiVersion", "podd.io/v1"), ("kind", "ImageList"), ("items", .array(items))])))
        }
        guard case let .file(path, size) = r.body else { throw .badRequest("send the image as the request body (a tar archive)") }
        guard size > 0 else {
            UploadSpool.remove(path)
            throw .badRequest("the request body is empty; send a rootfs tar archive (plain or gzip)")
        }
        let name = r.queryValue("name") ?? ""
        let tag = r.queryValue("tag").flatMap { $0.isEmpty ? nil : $0 }
        guard let ref = ImageReference(tag.map { "\(name):\($0)" } ?? name) else {
            UploadSpool.remove(path)
            throw StatusError(code: 422, reason: "Invalid",
                              message: "Image \"\(name)\" is invalid: name: Invalid value: \"\(name)\(tag.map { ":" + $0 } ?? "")\": must be NAME[:TAG] with a lowercase name (letters, digits, '.', '_', '-', '/') and a tag of letters, digits, '_', '.', '-'")
        }
        let image = try await runtime { () async throws(RuntimeError) in try await images.importUpload(ref, path: path) }
        return PodAPIHandler.json(201, image.json)
    }

    /// `/apis/podd.io/v1/images/REF`: GET one, DELETE it.
    func respond(_ r: APIRequest, reference text: String) async throws(StatusError) -> APIResponse {
        guard let ref = ImageReference(text) else { throw .badRequest("invalid image reference \"\(text)\"") }
        if r.method == .GET {
            guard let image = images.image(ref) else { throw .notFound(ref.description, kind: "images") }
            return PodAPIHandler.json(200, image.json)
        }
        try await runtime { () throws(RuntimeError) in try images.delete(ref) }
        return PodAPIHandler.json(200, .object(JSONObject([("kind", "Status"), ("apiVersion", "v1"), ("status", "Success"),
                                                           ("details", .object(JSONObject([("name", .string(ref.description)), ("kind", "images")])))])))
    }
}
