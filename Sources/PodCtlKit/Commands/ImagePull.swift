import ArgumentParser
import Glibc
import PodModel

extension Podctl.Image {
    /// `podctl image pull REF`: podd pulls an image from its registry into its store.
    public struct Pull: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Pull an image from a registry into podd's store.",
            discussion: """
                The reference normalises as Docker's: nginx is docker.io/library/nginx:latest; \
                @sha256:... pins a digest. podd pulls it with its own settings (registries: in \
                podd.yaml: credentials from authFile, mirrors, insecure registries). On a \
                terminal, one progress bar per layer; otherwise one line per layer when it is \
                done. Progress goes to stderr; the image ID is printed last, on stdout.

                Examples:
                  podctl image pull nginx:1.27-alpine
                  podctl image pull registry.local:5000/team/app@sha256:0123...
                """
        )

        @Argument(help: ArgumentHelp("The image reference.", valueName: "image"))
        var reference: String

        @Flag(name: [.short, .long], help: "Print only the image ID, no progress.")
        var quiet = false

        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            guard !reference.isEmpty, !reference.contains(where: { $0 == " " || $0 == "\n" }) else {
                throw PodctlError("invalid image reference \"\(reference)\": expected [REGISTRY/]NAME[:TAG][@DIGEST]")
            }
            let view = PullProgressView(style: quiet ? .quiet : (isatty(2) == 1 ? .bars : .lines))
            let result = try Self.pull(reference, socketPath: connection.socketPath) { event in try view.show(event) }
            view.finish()
            Output.write(result + "\n")
        }

        static let pullPath = PoddClient.imagesPath + "/pull"

        /// POSTs the pull and hands each progress event (one JSON object per line) to
        /// `onEvent`; returns the image ID of the final `pulled` event.
        static func pull(_ reference: String, socketPath: String, onEvent: (JSONValue) throws -> Void) throws -> String {
            let connection = try HTTPConnection(socketPath: socketPath)
            let body = JSONValue.object(JSONObject([("image", .string(reference))]))
            // The reference goes as the query (the store's route, images/pull?image=REF) and as
            // the JSON body (the contract the registry client was written against).
            try connection.send(method: "POST", target: pullPath + PoddClient.queryString([("image", reference)]),
                                body: .bytes(body.compactBytes, contentType: "application/json"))
            let head = try connection.readHead()
            guard head.isSuccess else {
                let errorBody = (try? connection.readWholeBody(of: head, method: "POST", limit: 1 << 20)) ?? []
                throw APIStatusError(code: head.status, body: errorBody)
            }
            var pending: [UInt8] = []
            var pulled: String?
            func handle(_ line: ArraySlice<UInt8>) throws {
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { return }
                let event: JSONValue
                do { event = try JSONValue.parse(Array(line)) } catch {
                    throw PodctlError("podd sent a pull progress line that is not JSON (\(error))")
                }
                switch event["type"].string {
                case "error":
                    throw PodctlError(event["message"].stringValue ?? "the pull of \(reference) failed")
                case "pulled":
                    // `id`, or the pulled image's inspect object (`Id`), or its name.
                    pulled = event["id"].stringValue ?? event["image"]?["Id"]?.stringValue ?? event["image"].stringValue ?? reference
                default:
                    try onEvent(event)
                }
            }
            try connection.readBody(of: head, method: "POST") { chunk in
                pending.append(contentsOf: chunk)
                var start = pending.startIndex
                while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    try handle(pending[start..<newline])
                    start = newline + 1
                }
                pending.removeFirst(start - pending.startIndex)
            }
            try handle(pending[...])
            guard let pulled else { throw PodctlError("podd ended the pull of \(reference) without saying whether it succeeded") }
            return pulled
        }
    }
}

/// How `podctl image pull` shows progress: bars redrawn in place on a terminal (podman's
/// look), a line per finished layer otherwise, or nothing.
final class PullProgressView {
    enum Style { case bars, lines, quiet }

    struct Layer {
        var digest: String
        var total: Int64
        var received: Int64 = 0
        var state = State.waiting
        enum State { case waiting, copying, done, skipped }
    }

    let style: Style
    private var layers: [Layer] = []
    private var drawnLines = 0
    private var lastDraw = 0.0
    private let started = Clock.now()
    /// Bytes and time of each layer's first progress event, for its speed.
    private var firstSeen: [String: Double] = [:]

    init(style: Style) { self.style = style }

    func show(_ event: JSONValue) throws {
        let digest = event["digest"].string
        switch event["type"].string {
        case "resolved":
            for layer in event["layers"]?.arrayValue ?? [] {
                let d = layer["digest"].string
                if !d.isEmpty, !layers.contains(where: { $0.digest == d }) {
                    layers.append(Layer(digest: d, total: layer["size"]?.intValue ?? 0))
                }
            }
            if style == .lines, let manifest = event["manifest"]?.stringValue {
                Output.error("Resolved manifest \(manifest), \(layers.count) layer\(layers.count == 1 ? "" : "s")")
            }
        case "bytes", "progress":
            update(digest) { layer in
                layer.state = .copying
                layer.received = event["received"]?.intValue ?? layer.received
                if let total = event["total"]?.intValue, total > 0 { layer.total = total }
            }
            if firstSeen[digest] == nil { firstSeen[digest] = Clock.now() }
        case "done":
            update(digest) { layer in
                layer.state = .done
                layer.received = layer.total
            }
            if style == .lines, let layer = layers.first(where: { $0.digest == digest }) {
                Output.error("Copying blob \(Self.short(digest)) done \(Self.bytes(layer.total))")
            }
        case "skipped":
            update(digest) { $0.state = .skipped }
            if style == .lines { Output.error("Copying blob \(Self.short(digest)) skipped: already exists") }
        default:
            return
        }
        if style == .bars { draw(force: event["type"].string != "bytes") }
    }

    func finish() {
        if style == .bars { draw(force: true) }
        if style != .quiet { Output.error("Writing manifest to image destination") }
    }

    private func update(_ digest: String, _ change: (inout Layer) -> Void) {
        if let i = layers.firstIndex(where: { $0.digest == digest }) {
            change(&layers[i])
        } else if !digest.isEmpty {
            var layer = Layer(digest: digest, total: 0)
            change(&layer)
            layers.append(layer)
        }
    }

    /// Redraws every bar in place (cursor up, clear line), at most ten times a second.
    private func draw(force: Bool) {
        let now = Clock.now()
        guard force || now - lastDraw >= 0.1 else { return }
        lastDraw = now
        let width = Terminal.size()?.width ?? 80
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        for layer in layers {
            text += "\u{1B}[2K" + line(for: layer, width: width, now: now) + "\n"
        }
        drawnLines = layers.count
        var out = text
        out.withUTF8 { Output.writeAll(fd: 2, UnsafeRawBufferPointer($0)) }
    }

    private func line(for layer: Layer, width: Int, now: Double) -> String {
        let label = "Copying blob \(Self.short(layer.digest))"
        switch layer.state {
        case .skipped: return label + " skipped: already exists"
        case .done: return label + " done   | " + Self.bytes(layer.total)
        case .waiting, .copying:
            let fraction = layer.total > 0 ? min(1, Double(layer.received) / Double(layer.total)) : 0
            var speed = ""
            if let first = firstSeen[layer.digest], now - first > 0.2 {
                speed = " (\(Self.bytes(Int64(Double(layer.received) / (now - first))))/s)"
            }
            let amounts = " \(Self.bytes(layer.received)) / \(Self.bytes(layer.total))\(speed)"
            // A width that does not change as the amounts grow: room for the longest amounts.
            let barWidth = max(10, min(30, width - label.count - 44))
            let filled = Int(fraction * Double(barWidth))
            let bar = String(repeating: "=", count: filled) + (filled < barWidth ? ">" : "")
                + String(repeating: "-", count: max(0, barWidth - filled - 1))
            return label + " [" + bar + "]" + amounts
        }
    }

    /// The first 12 hex digits, as podman shows a blob.
    static func short(_ digest: String) -> String {
        let hex = digest.split(separator: ":").last.map(String.init) ?? digest
        return String(hex.prefix(12))
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return unit == 0 ? "\(count)B" : "\(tenths / 10).\(tenths % 10)\(units[unit])"
    }
}
