import Glibc
import PodModel
import PodOS
import PodRuntime

/// podd's image extension, `/apis/podd.io/v1/images`: import a rootfs tarball (POST, the body
/// is the tarball, plain or gzip), list (GET), remove (DELETE .../images/NAME:TAG).
struct ImageRoutes {
    let images: ImageStore

    func respond(_ r: APIRequest, _ s: [String]) async throws(APIError) -> APIResponse {
        switch (r.method, s.count) {
        case (.GET, 0):
            let items = images.list().map(\.json)
            return PodAPIHandler.json(200, .object(JSONObject([("apiVersion", "podd.io/v1"), ("kind", "ImageList"), ("items", .array(items))])))
        case (.POST, 0):
            guard case let .file(path, size) = r.body else { throw .badRequest("send the image as the request body (a tar archive)") }
            guard size > 0 else {
                unlinkQuietly(path)
                throw .badRequest("the request body is empty; send a rootfs tar archive (plain or gzip)")
            }
            let name = r.queryValue("name") ?? ""
            let tag = r.queryValue("tag").flatMap { $0.isEmpty ? nil : $0 }
            guard let ref = ImageReference(tag.map { "\(name):\($0)" } ?? name) else {
                unlinkQuietly(path)
                throw APIError(code: 422, reason: "Invalid",
                               message: "Image \"\(name)\" is invalid: name: Invalid value: \"\(name)\(tag.map { ":" + $0 } ?? "")\": must be NAME[:TAG] with a lowercase name (letters, digits, '.', '_', '-', '/') and a tag of letters, digits, '_', '.', '-'")
            }
            let image: ImageStore.Image
            do throws(ImageStore.StoreError) {
                image = try await Self.importOffThread(images, ref, path)
            } catch {
                switch error {
                case let .unpackFailed(m):
                    throw APIError(code: 400, reason: "BadRequest", message: "cannot import image \(ref): not a valid tar archive: \(m)")
                case let .io(e):
                    throw APIError(code: e.code == 28 ? 507 : 500, reason: e.code == 28 ? "InsufficientStorage" : "InternalError",
                                   message: "cannot import image \(ref): \(e)")
                default:
                    throw APIError.internalError("cannot import image \(ref): \(error)")
                }
            }
            return PodAPIHandler.json(201, image.json)
        case (.GET, _), (.DELETE, _):
            // A name may have '/' in it (myorg/tool:1): it spans the rest of the path.
            let text = s.joined(separator: "/")
            guard let ref = ImageReference(text) else { throw .badRequest("invalid image reference \"\(text)\"") }
            if r.method == .GET {
                guard let image = images.image(ref) else { throw .notFound(ref.description, kind: "images") }
                return PodAPIHandler.json(200, image.json)
            }
            do { try images.remove(ref) } catch {
                if case .notFound = error { throw .notFound(ref.description, kind: "images") }
                throw .internalError("cannot remove image \(ref): \(error)")
            }
            return PodAPIHandler.json(200, .object(JSONObject([("kind", "Status"), ("apiVersion", "v1"), ("status", "Success"),
                                                               ("details", .object(JSONObject([("name", .string(ref.description)), ("kind", "images")])))])))
        default:
            throw PodAPIHandler.methodNotAllowed(r)
        }
    }

    /// Unpacking runs tar and waits for it: keep it off the cooperative pool.
    static func importOffThread(_ images: ImageStore, _ ref: ImageReference, _ path: String) async throws(ImageStore.StoreError) -> ImageStore.Image {
        let result: Result<ImageStore.Image, ImageStore.StoreError> = await withCheckedContinuation { c in
            DetachedThread.run {
                do throws(ImageStore.StoreError) {
                    c.resume(returning: .success(try images.importTarball(ref, tarPath: path, now: RuntimeClock.now())))
                } catch {
                    c.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}

func unlinkQuietly(_ path: String) { _ = path.withCString { unlink($0) } }
