import Testing

@testable import PodModel

@Suite struct YAMLTests {
    @Test func mapsScalarTypesAsKubernetes() throws {
        let documents = try JSONValue.parseYAMLDocuments("""
            int: 42
            negative: -7
            octal: 0755
            hex: 0x1F
            underscored: 1_000
            float: 1.5
            integralFloat: 30.0
            isYes: yes
            isOn: on
            isFalse: false
            tilde: ~
            empty:
            null: null
            quoted: "123"
            single: 'true'
            tagged: !!str 12
            date: 2026-11-25T14:11:12Z
            text: hello world
            big: 12345678901234567890
            """)
        #expect(documents.count == 1)
        let doc = documents[0]
        #expect(doc["int"] == .int(42))
        #expect(doc["negative"] == .int(-7))
        #expect(doc["octal"] == .int(493))
        #expect(doc["hex"] == .int(31))
        #expect(doc["underscored"] == .int(1000))
        #expect(doc["float"] == .double(1.5))
        #expect(doc["integralFloat"] == .double(30))
        // YAML 1.1 booleans, as go-yaml v2 reads them; keys become strings.
        #expect(doc["isYes"] == .bool(true))
        #expect(doc["isOn"] == .bool(true))
        #expect(doc["isFalse"] == .bool(false))
        #expect(doc["tilde"] == .null)
        #expect(doc["empty"] == .null)
        #expect(doc["null"] == .null)
        #expect(doc["quoted"] == .string("123"))
        #expect(doc["single"] == .string("true"))
        #expect(doc["tagged"] == .string("12"))
        #expect(doc["date"] == .string("2026-11-25T14:11:12Z"))
        #expect(doc["text"] == .string("hello world"))
        #expect(doc["big"] == .double(12345678901234567890))
    }

    @Test func keepsKeyOrderAndNesting() throws {
        let doc = try JSONValue.parseYAMLDocuments("""
            b: 1
            a:
              - name: x
                args: [sh, -c, "echo hi"]
              - {name: y}
            """)[0]
        #expect(doc.objectValue?.keys == ["b", "a"])
        #expect(doc["a"]?[0]?["args"] == ["sh", "-c", "echo hi"])
        #expect(doc["a"]?[1]?["name"] == "y")
    }

    @Test func splitsDocumentsAndSkipsEmptyOnes() throws {
        let documents = try JSONValue.parseYAMLDocuments("""
            ---
            a: 1
            ---
            ---
            # only a comment
            ---
            b: 2
            ...
            """)
        #expect(documents == [["a": 1], ["b": 2]])
        #expect(try JSONValue.parseYAMLDocuments("").isEmpty)
        #expect(try JSONValue.parseYAMLDocuments("# nothing\n").isEmpty)
    }

    @Test func appliesMergeKeysAndAliases() throws {
        let doc = try JSONValue.parseYAMLDocuments("""
            base: &base {image: busybox, name: base}
            c:
              <<: *base
              name: app
            list: [*base]
            """)[0]
        #expect(doc["c"] == ["name": "app", "image": "busybox"])
        #expect(doc["list"]?[0]?["image"] == "busybox")
    }

    @Test func nonStringKeysBecomeStrings() throws {
        let doc = try JSONValue.parseYAMLDocuments("1: a\ntrue: b\n1.5: c\n")[0]
        #expect(doc == ["1": "a", "true": "b", "1.5": "c"])
    }

    @Test(arguments: [
        ("a: 1\na: 2\n", "mapping key \"a\" already defined"),
        ("a: .inf\n", ".inf cannot be represented in JSON"),
        ("? [a]\n: 1\n", "mapping keys must be scalars, not a sequence"),
    ])
    func refuses(text: String, message: String) {
        do {
            _ = try JSONValue.parseYAMLDocuments(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.message == message)
        }
    }

    @Test func reportsSyntaxErrorsWithTheirLine() {
        do {
            _ = try JSONValue.parseYAMLDocuments("a: 1\nb: [1, 2\nc: 3\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line != nil)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func stopsAliasBombs() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        // A lower ceiling than the default keeps the test fast; the mechanism is the same.
        do {
            _ = try JSONValue.parseYAMLDocuments(text, maximumValues: 10_000)
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "document expands to more than 10000 values (alias expansion?)")
        }
    }

    @Test func keysThatReadTheSameCollide() {
        // yes and on are both the boolean true, so both keys are "true", as in go-yaml.
        #expect(throws: DocumentParseError.self) { try JSONValue.parseYAMLDocuments("yes: 1\non: 2\n") }
    }
}
