/// The arguments of the usual forms of the latency-sensitive verbs (exec, debug) read
/// without ArgumentParser: its reflection costs a few milliseconds at every start, a good
/// part of an exec's whole round trip. Anything unusual (help, an unknown flag, a missing
/// value) makes `parse` give up, and ArgumentParser reads the arguments, with its errors.
struct QuickArguments {
    /// The boolean flags given, by canonical name.
    var flags: Set<String> = []
    /// The options given, by canonical name, in order.
    var values: [String: [String]] = [:]
    var positionals: [String] = []
    /// What follows `--`.
    var command: [String] = []

    /// `booleans` and `options` map each spelling (`-i`, `--stdin`) to a canonical name;
    /// single-letter booleans may be combined (`-it`), options take `--name=value` too.
    init?(_ arguments: ArraySlice<String>, booleans: [String: String], options: [String: String]) {
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                command = Array(arguments[index...])
                return
            }
            if let flag = booleans[argument] {
                flags.insert(flag)
            } else if let option = options[argument] {
                // ArgumentParser refuses a value that looks like a flag ("-c -i"); so does this.
                guard index < arguments.endIndex, !arguments[index].hasPrefix("-") else { return nil }
                values[option, default: []].append(arguments[index])
                index += 1
            } else if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "="),
                      let option = options[String(argument[..<equals])] {
                values[option, default: []].append(String(argument[argument.index(after: equals)...]))
            } else if argument.count > 2, argument.hasPrefix("-"), !argument.hasPrefix("--"),
                      argument.dropFirst().allSatisfy({ booleans["-\($0)"] != nil }) {
                for letter in argument.dropFirst() { if let flag = booleans["-\(letter)"] { flags.insert(flag) } }
            } else if argument.hasPrefix("-") {
                return nil
            } else {
                positionals.append(argument)
            }
        }
    }

    /// The one value of an option; nil if absent; gives up (nil, `ok` false) if repeated or empty.
    func single(_ option: String) -> (value: String?, ok: Bool) {
        guard let given = values[option] else { return (nil, true) }
        guard given.count == 1, let value = given.first, !value.isEmpty else { return (nil, false) }
        return (value, true)
    }

    static let connection: [String: String] = ["-n": "namespace", "--namespace": "namespace", "--socket": "socket"]
}
