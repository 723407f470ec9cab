import Testing

@testable import PodJSON
@testable import PodModel

@Suite struct JSONParsingTests {
    @Test func parsesScalarsAndKeepsIntegersApart() throws {
        let value = try JSONValue.parse(#"{"a": 30, "b": 1.5, "c": -0, "d": 1e3, "e": true, "f": null, "g": "x", "h": 9223372036854775807}"#)
        #expect(value["a"] == .int(30))
        #expect(value["b"] == .double(1.5))
        #expect(value["c"] == .int(0))
        #expect(value["d"] == .double(1000))
        #expect(value["e"] == .bool(true))
        #expect(value["f"] == .null)
        #expect(value["g"] == .string("x"))
        #expect(value["h"] == .int(Int64.max))
    }

    @Test func integersBeyondInt64BecomeDoubles() throws {
        #expect(try JSONValue.parse("18446744073709551616") == .double(18446744073709551616))
    }

    @Test func keepsKeyOrder() throws {
        let value = try JSONValue.parse(#"{"z": 1, "a": 2, "m": 3}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(value.serializedString() == #"{"z":1,"a":2,"m":3}"#)
    }

    @Test func decodesEscapes() throws {
        let value = try JSONValue.parse(#""a\"b\\c\/d\n\t\r\b\f\u00e9\ud83d\ude00""#)
        #expect(value == .string("a\"b\\c/d\n\t\r\u{08}\u{0C}é😀"))
    }

    @Test func loneSurrogateBecomesReplacementCharacter() throws {
        #expect(try JSONValue.parse(#""\ud83dx""#) == .string("\u{FFFD}x"))
    }

    @Test(arguments: [
        ("{\"a\": 1,}", "invalid character '}' looking for beginning of object key string"),
        ("[1, 2,]", "invalid character ']' looking for beginning of value"),
        ("{\"a\": 01}", "invalid character '1' after top-level value"),
        ("{\"a\": 1} x", "invalid character 'x' after top-level value"),
        ("{\"a\": 1, \"a\": 2}", "duplicate field \"a\""),
        ("\"abc", "unexpected end of JSON input"),
        ("\"a\tb\"", "invalid character '\\x09' in string literal"),
        ("// comment\n{}", "invalid character '/' looking for beginning of value"),
        ("tru", "invalid character end of input in literal true (expecting 'e')"),
        ("1.", "invalid character end of input after decimal point in numeric literal"),
        ("", "unexpected end of JSON input"),
    ])
    func rejectsMalformedJSON(text: String, message: String) {
        #expect(throws: DocumentParseError.self) { try JSONValue.parse(text) }
        do {
            _ = try JSONValue.parse(text)
        } catch {
            #expect(error.message == message)
        }
    }

    @Test func reportsLineAndColumn() {
        do {
            _ = try JSONValue.parse("{\n  \"a\": 1,\n  x\n}")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 3)
            #expect(error.description == "line 3, column 3: invalid character 'x' looking for beginning of object key string")
        }
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: DocumentParseError.self) { try JSONValue.parse(deep) }
    }

    @Test func parsesStreams() throws {
        let values = try JSONValue.parseStream(Array(#"{"a":1} {"b":2}  [3]"#.utf8))
        #expect(values == [["a": 1], ["b": 2], [3]])
    }
}

@Suite struct JSONSerializationTests {
    @Test func escapesStrings() {
        let value: JSONValue = .string("q\"b\\n\nt\tc\u{01}é")
        #expect(value.serializedString() == #""q\"b\\n\nt\tc\u0001é""#)
        // Escapes at either end, side by side, and every control character.
        #expect(JSONValue.string("\"\"x\\").serializedString() == #""\"\"x\\""#)
        #expect(JSONValue.string("\u{1f}\u{08}\u{0c}\r").serializedString() == #""\u001f\b\f\r""#)
        #expect(JSONValue.string("").serializedString() == #""""#)
        let long = String(repeating: "abc/é-", count: 100)
        #expect(JSONValue.string(long).serializedString() == "\"" + long + "\"")
    }

    @Test func writesNumbers() {
        let value: JSONValue = [1, 1.5, 30.0, -2, .double(.nan), 1e-7]
        #expect(value.serializedString() == "[1,1.5,30,-2,null,1e-7]")
    }

    /// Go's encoding/json: plain decimal in [1e-6, 1e21), exponent form outside it, with
    /// e-07 shortened to e-7 and e+21 kept.
    @Test(arguments: [
        (1.0, "1"), (-0.5, "-0.5"), (0.000001, "0.000001"), (0.0000001, "1e-7"), (1.5e-10, "1.5e-10"),
        (1e20, "100000000000000000000"), (1.5e20, "150000000000000000000"), (1e21, "1e+21"),
        (-1.25e22, "-1.25e+22"), (123456.789, "123456.789"), (1e15, "1000000000000000"), (0.1, "0.1"),
        (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (Double.infinity, "null"),
    ])
    func formatsDoublesAsGo(number: Double, text: String) {
        #expect(JSONSerializer.format(number) == text)
    }

    @Test func kubectlLayoutIndentsByFourAndEscapesHTML() {
        let value: JSONValue = ["a": ["<b>&\u{2028}", 1], "c": [:]]
        #expect(value.serializedString(layout: .kubectl) == """
            {
                "a": [
                    "\\u003cb\\u003e\\u0026\\u2028",
                    1
                ],
                "c": {}
            }
            """)
    }

    @Test func prettyPrintsLikeKubectl() {
        let value: JSONValue = ["kind": "Pod", "spec": ["containers": [["name": "a"]], "volumes": [], "x": [:]]]
        let expected = """
            {
              "kind": "Pod",
              "spec": {
                "containers": [
                  {
                    "name": "a"
                  }
                ],
                "volumes": [],
                "x": {}
              }
            }

            """
        #expect(value.serializedString(pretty: true) == expected)
    }

    @Test func roundTrips() throws {
        let text = #"{"a":[1,2.5,"x",true,false,null,{"b":{}}],"c":"\u0000é😀","d":-9223372036854775808}"#
        let value = try JSONValue.parse(text)
        #expect(try JSONValue.parse(value.serialized()) == value)
        #expect(value.serializedString() == text.replacingOccurrences(of: "é😀", with: "é😀"))
    }
}

@Suite struct JSONObjectTests {
    @Test func equalityIgnoresOrder() {
        #expect(JSONValue(dictionaryLiteral: ("a", 1), ("b", 2)) == JSONValue(dictionaryLiteral: ("b", 2), ("a", 1)))
        #expect(JSONValue(dictionaryLiteral: ("a", 1)) != JSONValue(dictionaryLiteral: ("a", 1), ("b", 2)))
    }

    @Test func setReplacesInPlaceAndRemoveKeepsOrder() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = 20
        #expect(object.keys == ["a", "b", "c"])
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(object["c"] == 3)
        object["d"] = 4
        #expect(object.keys == ["a", "c", "d"])
        #expect(object["d"] == 4)
    }

    /// Objects past the size from which they keep an index of their keys (labels,
    /// annotations) behave as small ones: order, replacement, removal, lookup, equality.
    @Test func largeObjectsKeepOrderAndLookupAcrossTheIndex() {
        var object = JSONObject()
        for i in 0..<40 { object["k\(i)"] = .int(Int64(i)) }
        #expect(object.count == 40)
        #expect(object.keys == (0..<40).map { "k\($0)" })
        for i in 0..<40 { #expect(object["k\(i)"] == .int(Int64(i))) }
        object["k7"] = "seven"
        #expect(object.keys[7] == "k7" && object["k7"] == "seven")
        #expect(object.removeValue(forKey: "k3") == 3)
        #expect(object.removeValue(forKey: "k3") == nil)
        #expect(!object.contains("k3") && object.contains("k4"))
        // Every member after the removed one is still found where it now is.
        for i in 4..<40 where i != 7 { #expect(object["k\(i)"] == .int(Int64(i))) }
        object["new"] = true
        #expect(object.keys.last == "new" && object["new"] == true)
        var reversed = JSONObject()
        for (key, value) in object.entries.reversed() { reversed[key] = value }
        #expect(reversed == object)
        reversed["k0"] = 100
        #expect(reversed != object)
        // Shrunk below the index size and grown again: the same answers.
        for i in 10..<40 { object["k\(i)"] = nil }
        #expect(object.keys == ["k0", "k1", "k2", "k4", "k5", "k6", "k7", "k8", "k9", "new"])
        for i in 50..<70 { object["k\(i)"] = .int(Int64(i)) }
        #expect(object["k69"] == 69 && object["k5"] == 5 && object["k20"] == nil)
    }

    @Test func accessors() {
        let value: JSONValue = ["n": 3.0, "s": "x", "list": [1, 2]]
        #expect(value["n"]?.intValue == 3)
        #expect(JSONValue.double(3.5).intValue == nil)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["list"]?[1] == 2)
        #expect(value["list"]?[5] == nil)
        #expect(value["missing"] == nil)
        #expect(JSONValue.array([]).isZero)
        #expect(!JSONValue.string("x").isZero)
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
