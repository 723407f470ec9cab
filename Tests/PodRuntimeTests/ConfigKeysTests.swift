import PodModel
import PodOS
import Testing
@testable import PodRuntime

/// The config's unknown-key message names every key podd takes, and only those: it is made
/// from the keys `PoddConfig.parse` handles (`eviction` was once left out of a hand-kept list).
struct ConfigKeysTests {
    /// The keys the unknown-key message lists.
    static func listedKeys() throws -> [String] {
        do {
            _ = try PoddConfig.parse("colour: blue", source: "t.yaml")
        } catch {
            let message = error.message
            #expect(message.hasPrefix("t.yaml: colour: unknown key (known: "))
            let list = message.split(separator: "(known: ", maxSplits: 1).last?.dropLast() ?? ""
            return list.split(separator: ", ").map(String.init)
        }
        Issue.record("an unknown key was accepted")
        return []
    }

    @Test func theMessageNamesEveryKeyOfTheExampleConfig() throws {
        let listed = try Self.listedKeys()
        #expect(listed.contains("eviction"))
        // config/podd.yaml documents every key with its default.
        let path = String(#filePath.split(separator: "/Tests/").first ?? "") + "/config/podd.yaml"
        let text = try #require(FileSystem.readString(path))
        let example = try #require(try JSONValue.parseYAMLDocuments(text).first?.objectValue)
        let documented = example.map(\.key)
        #expect(Set(documented).isSubset(of: listed), "\(Set(documented).subtracting(listed))")
        _ = try PoddConfig.parse(text, source: path)
    }

    @Test func everyKeyTheMessageNamesIsTaken() throws {
        for key in try Self.listedKeys() {
            do {
                _ = try PoddConfig.parse("\(key): [not, a, value, for, it]", source: "t.yaml")
            } catch {
                #expect(!error.message.contains("unknown key"), "\(key): \(error.message)")
            }
        }
    }
}
