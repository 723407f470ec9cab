import PodJSON

/// What a registry asks for, learned from its `WWW-Authenticate` challenges, and the token it
/// handed out: nothing, Basic credentials on every request, or the token flow (distribution's
/// token.md): a GET of the realm with service and scope, Basic credentials when the auth file
/// has some, answered with `token` (or OAuth's `access_token`) and `expires_in`.
///
/// Shared by the parallel blob downloads of a pull, so that they share one token: one fetch
/// at a time (the others wait for it), and one renewal when the registry turns a token down,
/// however many requests it refused together.
actor RegistryAuthorizer {
    enum Method: Equatable {
        case anonymous
        case basic
        case bearer(realm: HTTPLocation, service: String?, scope: String?)
    }

    private let http: RegistryHTTPClient
    private let credentials: RegistryCredentials?
    /// `repository:PATH:pull`.
    private let scope: String
    /// `host[:port]` of the registry, for messages.
    private let registry: String
    private let authFile: String
    private let settings: RegistrySettings
    /// Whether the registry itself is reached over plain HTTP (its admin chose so).
    private let registryIsPlain: Bool
    private(set) var method: Method = .anonymous
    private var token: Token?
    /// The token fetch under way: every request that needs a token meanwhile waits for it.
    private var fetching: Task<Token, any Error>?
    /// Counts the tokens handed out: a 401 renews only the token it refused.
    private var generation = 0

    typealias Token = (value: String, expires: ContinuousClock.Instant)

    /// What `authorization()` hands out: the header (nil: none needed) and the generation
    /// of the token in it, for `renew`.
    struct Grant: Sendable {
        var header: String?
        var generation: Int
    }

    init(http: RegistryHTTPClient, credentials: RegistryCredentials?, repository: String, registry: String,
         authFile: String, settings: RegistrySettings, registryIsPlain: Bool) {
        self.http = http
        self.credentials = credentials
        scope = "repository:\(repository):pull"
        self.registry = registry
        self.authFile = authFile
        self.settings = settings
        self.registryIsPlain = registryIsPlain
    }

    var hasCredentials: Bool { credentials != nil }

    /// Takes the method from a 401's challenges (Bearer preferred, as Docker does).
    func learn(_ challenges: [AuthChallenge]) throws {
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            guard let realmText = bearer.realm, let realm = HTTPLocation(realmText) else {
                throw FetchError(.unsupported, "\(registry) asked for a bearer token without a usable realm URL")
            }
            method = .bearer(realm: realm, service: bearer.parameters["service"], scope: bearer.parameters["scope"])
            token = nil
            fetching = nil
            generation += 1
        } else if challenges.contains(where: { $0.scheme == "basic" }) {
            method = .basic
        } else {
            let names = challenges.map(\.scheme).joined(separator: ", ")
            throw FetchError(.unsupported, "\(registry) asked for authentication podd does not speak (\(names.isEmpty ? "no WWW-Authenticate challenge" : names)); podd speaks Bearer and Basic")
        }
    }

    /// The Authorization header for the next request, fetching a token when there is none or
    /// it expired; nil when the registry needs none.
    func authorization() async throws -> Grant {
        switch method {
        case .anonymous:
            return Grant(header: nil, generation: generation)
        case .basic:
            guard let credentials else { throw refused(status: "401 Unauthorized") }
            return Grant(header: credentials.basicAuthorization, generation: generation)
        case let .bearer(realm, service, challengeScope):
            if let token, ContinuousClock.now < token.expires { return Grant(header: "Bearer " + token.value, generation: generation) }
            let mine = generation
            let task: Task<Token, any Error>
            if let fetching {
                task = fetching
            } else {
                task = Task { try await self.fetchToken(realm: realm, service: service, scope: challengeScope) }
                fetching = task
            }
            let fresh: Token
            do {
                fresh = try await task.value
            } catch {
                // The next request tries again.
                if generation == mine { fetching = nil }
                throw error
            }
            // A renewal while this fetch was under way makes its token stale: the caller
            // sends it, is refused, and renews once more.
            if generation == mine {
                token = fresh
                fetching = nil
            }
            return Grant(header: "Bearer " + fresh.value, generation: mine)
        }
    }

    /// After a 401: learn the challenge again (a token expired or lacked a scope; the next
    /// `authorization()` fetches a new one), unless the token refused is already replaced
    /// (requests refused together renew once). Basic credentials that were sent and refused
    /// have nothing new to try.
    func renew(after challenges: [AuthChallenge], refused grant: Grant) throws {
        if case .bearer = method, grant.header != nil, grant.generation != generation { return }
        try learn(challenges)
        if grant.header != nil, method == .basic { throw refused(status: "401 Unauthorized") }
    }

    /// The error for credentials refused (or missing), naming the file, never its contents.
    nonisolated func refused(status: String) -> FetchError {
        let repository = scope.dropFirst("repository:".count).dropLast(":pull".count)
        if let origin = credentials?.origin {
            return FetchError(.unauthorized, "\(status): \(registry) refused the credentials of \(origin), or they give no access to \(repository): check the secret's username and password for \(registry)")
        }
        if credentials != nil {
            return FetchError(.unauthorized, "\(status): \(registry) refused the credentials for it in registries.authFile (\(authFile)), or they give no access to \(repository): check them with `podman login --authfile \(authFile) \(registry)`")
        }
        return FetchError(.unauthorized, "pull access denied, repository does not exist or may require authorization: \(status) from \(registry), and registries.authFile (\(authFile)) has no credentials for it")
    }

    private nonisolated func fetchToken(realm: HTTPLocation, service: String?, scope challengeScope: String?) async throws -> (value: String, expires: ContinuousClock.Instant) {
        if !realm.isSecure && !settings.isInsecure(realm.authority) && !registryIsPlain {
            throw FetchError(.insecureRefused, "\(registry)'s token realm \(realm) is plain HTTP: list \(realm.authority) under registries.insecure to allow it")
        }
        var query: [String] = []
        if let service { query.append("service=" + Self.percentEncode(service)) }
        // The repository's pull scope, and the challenge's if it named another.
        query.append("scope=" + Self.percentEncode(scope))
        if let challengeScope, challengeScope != scope { query.append("scope=" + Self.percentEncode(challengeScope)) }
        var location = realm
        location.target += (location.target.contains("?") ? "&" : "?") + query.joined(separator: "&")
        var headers: [(String, String)] = [("Accept", "application/json")]
        if let credentials { headers.append(("Authorization", credentials.basicAuthorization)) }
        let verify = !settings.isInsecure(realm.authority)
        let started = ContinuousClock.now
        let registry = self.registry
        let (status, body): (RegistryHTTPClient.Response, [UInt8]) = try await RetryPolicy.standard.run { () async throws -> (RegistryHTTPClient.Response, [UInt8]) in
            try await http.get(location, headers: headers, verifyTLS: verify) { response, body in
                (response, try await body.collect(limit: 1 << 20, what: "the token answer"))
            }
        }
        guard status.status == 200 else {
            if status.status == 401 || status.status == 403 {
                throw refused(status: "failed to fetch oauth token: \(status.statusText)")
            }
            throw FetchError(.unreachable, "failed to fetch oauth token from \(realm) for \(registry): \(status.statusText)")
        }
        guard let json = try? JSONValue.parse(body),
              let value = json["token"]?.stringValue ?? json["access_token"]?.stringValue, !value.isEmpty else {
            throw FetchError(.unsupported, "the token server \(realm) of \(registry) answered without a token")
        }
        // Docker's rule: a token lives at least 60 s; renew a little before it ends.
        let lifetime = max(json["expires_in"]?.doubleValue ?? 60, 60)
        return (value, started + .milliseconds(Int64((lifetime - 5) * 1000)))
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0x0f)])
            }
        }
        return out
    }
}
