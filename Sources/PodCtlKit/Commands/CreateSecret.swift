import ArgumentParser
import PodModel

extension Podctl {
    /// `podctl create secret generic|tls|docker-registry NAME ...`, kubectl's three generators.
    struct CreateSecret: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "secret",
            abstract: "Create a secret: generic, tls or docker-registry.",
            subcommands: [Generic.self, TLS.self, DockerRegistry.self]
        )

        static func object(name: String, type: String?, data: [(String, [UInt8])]) -> JSONValue {
            var object: JSONValue = [
                "apiVersion": "v1", "kind": "Secret",
                "metadata": .object(JSONObject([("name", .string(name))])),
            ]
            if !data.isEmpty { object["data"] = .object(JSONObject(data.map { ($0.0, .string(PodModel.Base64.encode($0.1))) })) }
            if let type, !type.isEmpty { object["type"] = .string(type) }
            return object
        }

        struct Generic: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a secret from literals, files, directories or env files.")

            @Argument(help: "The Secret's name.")
            var name: String

            @Option(name: .customLong("from-literal"), help: ArgumentHelp("A key and value (repeatable).", valueName: "key=value"))
            var literals: [String] = []

            @Option(name: .customLong("from-file"), help: ArgumentHelp("A file (key: its name, or KEY=), or a directory's files (repeatable).", valueName: "[key=]path"))
            var files: [String] = []

            @Option(name: .customLong("from-env-file"), help: ArgumentHelp("KEY=VALUE lines (repeatable).", valueName: "file"))
            var envFiles: [String] = []

            @Option(name: .customLong("type"), help: ArgumentHelp("The secret's type (default Opaque).", valueName: "type"))
            var type: String?

            @OptionGroup var options: CreateOutputOptions

            func run() throws {
                let entries = try ConfigDataSources.read(literals: literals, files: files, envFiles: envFiles, kind: "Secret", name: name)
                try options.emit(CreateSecret.object(name: name, type: type, data: entries), resource: .secrets)
            }
        }

        struct TLS: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "tls", abstract: "Create a TLS secret from a certificate and its key (PEM).")

            @Argument(help: "The Secret's name.")
            var name: String

            @Option(name: .customLong("cert"), help: ArgumentHelp("The PEM certificate file.", valueName: "path"))
            var cert: String

            @Option(name: .customLong("key"), help: ArgumentHelp("The PEM private key file.", valueName: "path"))
            var key: String

            @OptionGroup var options: CreateOutputOptions

            func run() throws {
                let certificate = try FileSystem.readFile(cert)
                let privateKey = try FileSystem.readFile(key)
                guard String(decoding: certificate, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
                    throw PodctlError("failed to load key pair tls: failed to find any PEM data in certificate input (\(cert))")
                }
                guard String(decoding: privateKey, as: UTF8.self).contains("PRIVATE KEY-----") else {
                    throw PodctlError("failed to load key pair tls: failed to find any PEM data in key input (\(key))")
                }
                try options.emit(CreateSecret.object(name: name, type: Secret.KnownType.tls,
                                                     data: [("tls.crt", certificate), ("tls.key", privateKey)]), resource: .secrets)
            }
        }

        struct DockerRegistry: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "docker-registry",
                                                            abstract: "Create a secret holding registry credentials (.dockerconfigjson).")

            @Argument(help: "The Secret's name.")
            var name: String

            @Option(name: .customLong("docker-server"), help: ArgumentHelp("The registry.", valueName: "server"))
            var server: String = "https://index.docker.io/v1/"

            @Option(name: .customLong("docker-username"), help: ArgumentHelp("The user name.", valueName: "name"))
            var username: String?

            @Option(name: .customLong("docker-password"), help: ArgumentHelp("The password.", valueName: "password"))
            var password: String?

            @Option(name: .customLong("docker-email"), help: ArgumentHelp("The email (optional).", valueName: "email"))
            var email: String?

            @OptionGroup var options: CreateOutputOptions

            func run() throws {
                guard let username, !username.isEmpty else { throw PodctlError("--docker-username is required") }
                guard let password, !password.isEmpty else { throw PodctlError("--docker-password is required") }
                var entry = JSONObject([("username", .string(username)), ("password", .string(password))])
                if let email, !email.isEmpty { entry["email"] = .string(email) }
                entry["auth"] = .string(PodModel.Base64.encode(Array("\(username):\(password)".utf8)))
                let config: JSONValue = .object(JSONObject([("auths", .object(JSONObject([(server, .object(entry))])))]))
                try options.emit(CreateSecret.object(name: name, type: Secret.KnownType.dockerConfigJSON,
                                                     data: [(".dockerconfigjson", config.serialized())]), resource: .secrets)
            }
        }
    }
}
