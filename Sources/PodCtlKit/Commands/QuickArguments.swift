/// The arguments of the usual forms of the latency-sensitive verbs (exec, debug) read
/// without ArgumentParser: its reflection costs a few milliseconds at every start, a good
/// part of an exec's whole round trip. Anything unusual (help, an unknown flag, a missing
/// value) makes `parse` give up, and ArgumentParser reads the arguments, with its errors.
///
/// Arrays and KeyValuePairs only, no Set or Dictionary: the first hashed collection of
/// Strings makes the Swift runtime scan every protocol conformance in podctl for
/// String: Hashable, about a tenth of an exec's start-up.
struct QuickArguments {
    /// The boolean flags given, by canonical name.
    var flags: [String] = []
    /// The options given, by canonical name, in order.
    private var given: [(option: String, value: String)] = []
    var positionals: [String] = []
    /// What follows `--`.
    var command: [String] = []

    /// `booleans` and `options` map each spelling (`-i`, `--stdin`) to a canonical name;
    /// single-letter booleans may be combined (`-it`), options take `--name=value` too.
    init?(_ arguments: ArraySlice<String>, booleans: KeyValuePairs<String, String>, options: KeyValuePairs<String, String>) {
        func lookup(_ spelling: String, _ table: KeyValuePairs<String, String>) -> String? {
            table.first(where: { $0.key == spelling })?.value
        }
        func option(_ spelling: String) -> String? {
            lookup(spelling, options) ?? lookup(spelling, Self.connection)
        }
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                command = Array(arguments[index...])
                return
            }
            if let flag = lookup(argument, booleans) {
                flags.append(flag)
            } else if let option = option(argument) {
                // ArgumentParser refuses a value that looks like a flag ("-c -i"); so does this.
                guard index < arguments.endIndex, !arguments[index].hasPrefix("-") else { return nil }
                given.append((option, arguments[index]))
                index += 1
            } else if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "="),
                      let option = option(String(argument[..<equals])) {
                given.append((option, String(argument[argument.index(after: equals)...])))
            } else if argument.count > 2, argument.hasPrefix("-"), !argument.hasPrefix("--"),
                      argument.dropFirst().allSatisfy({ lookup("-\($0)", booleans) != nil }) {
                for letter in argument.dropFirst() { if let flag = lookup("-\(letter)", booleans) { flags.append(flag) } }
            } else if argument.hasPrefix("-") {
                return nil
            } else {
                positionals.append(argument)
            }
        }
    }

    /// Every value of an option, in order.
    func values(_ option: String) -> [String] {
        given.filter { $0.option == option }.map(\.value)
    }

    /// The one value of an option; nil if absent; gives up (nil, `ok` false) if repeated or empty.
    func single(_ option: String) -> (value: String?, ok: Bool) {
        let values = values(option)
        guard !values.isEmpty else { return (nil, true) }
        guard values.count == 1, let value = values.first, !value.isEmpty else { return (nil, false) }
        return (value, true)
    }

    /// The options every verb read here takes besides its own.
    static let connection: KeyValuePairs<String, String> = ["-n": "namespace", "--namespace": "namespace", "--socket": "socket"]
}
