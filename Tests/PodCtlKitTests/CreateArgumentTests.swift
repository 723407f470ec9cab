import ArgumentParser
import Glibc
import Testing

@testable import PodCtlKit

/// `podctl create configmap|secret`: kubectl's flags, and what the sources read into.
@Suite struct CreateArgumentTests {
    func parsed(_ arguments: [String]) throws -> ParsableCommand {
        try Podctl.parseAsRoot(Podctl.moveLeadingGlobalOptions(Podctl.normalizeBooleanFlags(arguments)))
    }

    @Test func configMapFlags() throws {
        let command = try #require(try parsed(["create", "configmap", "app", "--from-literal", "a=1", "--from-literal=b=2",
                                               "--from-file", "k=/etc/hostname", "--from-env-file", "x.env",
                                               "--dry-run=client", "-o", "yaml", "-n", "demo"]) as? Podctl.CreateConfigMap)
        #expect(command.name == "app")
        #expect(command.literals == ["a=1", "b=2"])
        #expect(command.files == ["k=/etc/hostname"])
        #expect(command.envFiles == ["x.env"])
        #expect(command.options.dryRun == "client" && command.options.output == .yaml)
        #expect(command.options.namespaceOptions.namespace == "demo")
        #expect(try parsed(["create", "cm", "app"]) is Podctl.CreateConfigMap)
        #expect(throws: (any Error).self) { try parsed(["create", "configmap", "app", "--dry-run=maybe"]) }
    }

    @Test func secretGenerators() throws {
        #expect(try parsed(["create", "secret", "generic", "s", "--from-literal", "p=x", "--type", "example.com/t"]) is Podctl.CreateSecret.Generic)
        let tls = try #require(try parsed(["create", "secret", "tls", "t", "--cert", "c.pem", "--key", "k.pem"]) as? Podctl.CreateSecret.TLS)
        #expect(tls.cert == "c.pem" && tls.key == "k.pem")
        let docker = try #require(try parsed(["create", "secret", "docker-registry", "d", "--docker-username", "u",
                                              "--docker-password", "p", "--docker-email", "e"]) as? Podctl.CreateSecret.DockerRegistry)
        #expect(docker.server == "https://index.docker.io/v1/")
        #expect(throws: (any Error).self) { try parsed(["create", "secret", "tls", "t", "--cert", "c.pem"]) }
    }

    @Test func literalsAndDuplicates() throws {
        let entries = try ConfigDataSources.read(literals: ["a=1", "b=x=y", "c="], files: [], envFiles: [], kind: "ConfigMap", name: "m")
        #expect(entries.map(\.0) == ["a", "b", "c"])
        #expect(entries.map { String(decoding: $0.1, as: UTF8.self) } == ["1", "x=y", ""])
        #expect(throws: PodctlError.self) {
            try ConfigDataSources.read(literals: ["a=1", "a=2"], files: [], envFiles: [], kind: "ConfigMap", name: "m")
        }
        #expect(throws: PodctlError.self) {
            try ConfigDataSources.read(literals: ["no-value"], files: [], envFiles: [], kind: "ConfigMap", name: "m")
        }
        #expect(throws: PodctlError.self) {
            try ConfigDataSources.read(literals: ["bad key=1"], files: [], envFiles: [], kind: "ConfigMap", name: "m")
        }
    }
}
