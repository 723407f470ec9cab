import NIOHTTP1
import PodJSON

/// One endpoint (a mirror, or the registry itself) serving one repository during one pull:
/// its `/v2/` base, whether TLS is verified, and how it wants to be authorized. Every GET
/// through it follows redirects (a blob's 307 to S3 or a CDN, which never gets the registry's
/// Authorization header), renews a token the registry turned down, and tries again after
/// connection failures and 429/5xx answers.
struct RegistrySession: Sendable {
    let http: RegistryHTTPClient
    /// Scheme, host, port and path prefix (empty, or a mirror's `/prefix`).
    let base: HTTPLocation
    let repository: String
    let authorizer: RegistryAuthorizer
    let settings: RegistrySettings
    /// Whether this is a mirror (messages say so).
    let isMirror: Bool

    /// `host[:port]` as messages and `FetchedImage.source` show it.
    var authority: String { base.authority }

    /// A mirror's path prefix without its trailing `/` (empty for a registry's root).
    static func prefix(of base: HTTPLocation) -> String {
        var path = base.target
        while path.hasSuffix("/") { path.removeLast() }
        return path
    }

    /// Pings `base`'s `/v2/` and learns how to authorize. An HTTPS endpoint listed under
    /// `insecure` that does not speak TLS is reached over plain HTTP instead (podman's
    /// fallback); one not listed is refused with a message that says how to allow it.
    static func open(base: HTTPLocation, repository: String, settings: RegistrySettings, http: RegistryHTTPClient,
                     credentials: RegistryCredentials?, isMirror: Bool) async throws -> RegistrySession {
        let insecure = settings.isInsecure(base.authority)
        var base = base
        var challenges: [AuthChallenge]?
        do {
            challenges = try await ping(base, verifyTLS: !insecure, http: http)
        } catch let error as TransportError where base.isSecure && error.kind != .connect && error.kind != .timeout && error.kind != .cancelled {
            // No TLS there: a plain HTTP registry on that port, most likely.
            guard let plain = HTTPLocation("http://" + base.authority + Self.prefix(of: base)) else { throw error }
            if insecure {
                base = plain
                challenges = try await ping(base, verifyTLS: false, http: http)
            } else if await answers(plain, http: http) {
                throw FetchError(.insecureRefused, "pinging container registry \(base.authority): GET \"\(base.isSecure ? "https" : "http")://\(base.authority)\(Self.prefix(of: base))/v2/\": http: server gave HTTP response to HTTPS client: podd reaches a registry over plain HTTP only when registries.insecure in podd.yaml lists it (add \(base.authority))")
            } else {
                throw error
            }
        }
        let authorizer = RegistryAuthorizer(http: http, credentials: credentials, repository: repository, registry: base.authority,
                                            authFile: settings.authFile, settings: settings, registryIsPlain: !base.isSecure)
        if let challenges { try await authorizer.learn(challenges) }
        return RegistrySession(http: http, base: base, repository: repository, authorizer: authorizer, settings: settings,
                               isMirror: isMirror)
    }

    /// Whether `location` answers a ping at all (a plain HTTP registry where HTTPS failed). One
    /// quick retry: a registry that just dropped the TLS attempt's connection may reset the next.
    private static func answers(_ location: HTTPLocation, http: RegistryHTTPClient) async -> Bool {
        do {
            _ = try await ping(location, verifyTLS: false, http: http, retry: RetryPolicy(delays: [.milliseconds(100)]))
            return true
        } catch {
            return false
        }
    }

    /// GET /v2/: nil when it answers 200 (no authorization needed), the challenges of a 401.
    private static func ping(_ base: HTTPLocation, verifyTLS: Bool, http: RegistryHTTPClient,
                             retry: RetryPolicy = .standard) async throws -> [AuthChallenge]? {
        var location = base
        location.target = prefix(of: base) + "/v2/"
        return try await retry.run {
            try await http.get(location, headers: [], verifyTLS: verifyTLS) { response, body -> [AuthChallenge]? in
                switch response.status {
                case 200..<300: return nil
                case 401: return AuthChallenge.parse(response.headers[canonicalForm: "WWW-Authenticate"].joined(separator: ", "))
                default:
                    let detail = RegistryErrorBody.summary(try? await body.collect(limit: 64 << 10, what: "the error"))
                    throw FetchError(.unreachable, "pinging container registry \(base.authority): GET \"\(location)\": unexpected status \(response.statusText)\(detail) (is it an OCI distribution registry?)")
                }
            }
        }
    }

    /// `base` + `/v2/REPOSITORY/` + `path`.
    func location(_ path: String) -> HTTPLocation {
        var location = base
        location.target = Self.prefix(of: base) + "/v2/" + repository + "/" + path
        return location
    }

    private enum Outcome<Result> {
        case done(Result)
        case redirect(HTTPLocation)
        case unauthorized([AuthChallenge])
        case retry(String)
    }

    /// GETs `path` (below the repository) and hands the final response to `handle`: any
    /// status but a redirect, a 401 that a new token cures, or a 429/5xx that a new attempt
    /// may cure. `headers` is asked again for each attempt (a blob resumes with `Range`).
    func get<Result>(_ path: String, headers: () -> [(String, String)],
                     handle: (RegistryHTTPClient.Response, inout ResponseBody) async throws -> Result) async throws -> Result {
        var location = location(path)
        var renewed = false
        var statusRetries = 0
        var hops = 0
        while true {
            let atRegistry = location.sameOrigin(as: base)
            if !location.isSecure && !atRegistry && !settings.isInsecure(location.authority) {
                throw FetchError(.insecureRefused, "\(authority) redirected to \(location), which is plain HTTP: list \(location.authority) under registries.insecure to allow it")
            }
            var requestHeaders = headers()
            var grant = RegistryAuthorizer.Grant(header: nil, generation: -1)
            if atRegistry {
                grant = try await authorizer.authorization()
                if let header = grant.header { requestHeaders.append(("Authorization", header)) }
            }
            let verify = !settings.isInsecure(location.authority)
            let allowRetry = statusRetries < 2
            let target = location
            let outcome: Outcome<Result> = try await RetryPolicy.standard.run {
                try await http.get(target, headers: requestHeaders, verifyTLS: verify) { response, body -> Outcome<Result> in
                    let status = response.status
                    if [301, 302, 303, 307, 308].contains(status) {
                        guard let text = response.header("Location"), let next = target.resolving(text) else {
                            throw FetchError(.unsupported, "GET \"\(target)\": \(response.statusText) without a usable Location")
                        }
                        return .redirect(next)
                    }
                    if status == 401 && atRegistry {
                        return .unauthorized(AuthChallenge.parse(response.headers[canonicalForm: "WWW-Authenticate"].joined(separator: ", ")))
                    }
                    if allowRetry && [429, 500, 502, 503, 504].contains(status) {
                        return .retry(response.statusText)
                    }
                    return .done(try await handle(response, &body))
                }
            }
            switch outcome {
            case let .done(result):
                return result
            case let .redirect(next):
                hops += 1
                guard hops <= 10 else { throw FetchError(.unsupported, "GET \"\(self.location(path))\": stopped after 10 redirects") }
                location = next
            case let .unauthorized(challenges):
                guard !renewed else {
                    throw authorizer.refused(status: "401 Unauthorized")
                }
                renewed = true
                try await authorizer.renew(after: challenges, refused: grant)
            case .retry:
                statusRetries += 1
                try await Task.sleep(for: .milliseconds(500 * statusRetries))
            }
        }
    }
}

/// The `errors` body of a registry's failure (distribution's spec: code, message, detail).
enum RegistryErrorBody {
    /// `: CODE: message` of the first error, or "" when the body says nothing usable.
    static func summary(_ bytes: [UInt8]?) -> String {
        guard let bytes, let json = try? JSONValue.parse(bytes),
              let first = json["errors"]?[0] else { return "" }
        let code = first["code"]?.stringValue ?? ""
        let message = first["message"]?.stringValue ?? ""
        let text = [code, message].filter { !$0.isEmpty }.joined(separator: ": ")
        return text.isEmpty ? "" : " (server message: \(String(text.prefix(300))))"
    }
}
