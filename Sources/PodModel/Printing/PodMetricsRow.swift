/// A PodMetrics (metrics.k8s.io/v1beta1) as `kubectl top pod` prints it: CPU in millicores
/// (`5m`) and memory (the working set) in Mi (`12Mi`), per pod and per container. podctl top
/// prints it, and podd serves it as a Table row, so the two show the same figures.
public struct PodMetricsRow: Equatable, Sendable {
    public struct Container: Equatable, Sendable {
        public var name: String
        public var cpu: String
        public var memory: String
    }

    public var namespace: String
    public var name: String
    public var cpu: String
    public var memory: String
    /// The window the CPU rate was measured over (`1.002s`), as the object writes it.
    public var window: String
    public var containers: [Container]

    public init(_ metrics: JSONValue) {
        namespace = metrics["metadata"]["namespace"].string
        name = metrics["metadata"]["name"].string
        window = metrics["window"].string
        var milliCores: Int64 = 0
        var bytes: Int64 = 0
        containers = metrics["containers"].array.map { container in
            let cores = Self.milliCores(container["usage"]["cpu"].string)
            let memory = Self.bytes(container["usage"]["memory"].string)
            milliCores = Self.saturatingSum(milliCores, cores)
            bytes = Self.saturatingSum(bytes, memory)
            return Container(name: container["name"].string, cpu: "\(cores)m", memory: "\(memory >> 20)Mi")
        }
        cpu = "\(milliCores)m"
        memory = "\(bytes >> 20)Mi"
    }

    public static func milliCores(_ text: String) -> Int64 {
        (try? Quantity(parsing: text))?.milliValue ?? 0
    }

    public static func bytes(_ text: String) -> Int64 {
        (try? Quantity(parsing: text))?.value ?? 0
    }

    /// A sum that stays at Int64's bounds rather than trapping (the figures come from the wire).
    static func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }
}
