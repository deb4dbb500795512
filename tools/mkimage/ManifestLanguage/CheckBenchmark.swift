/// Times the whole check (parse, schema, validation, platform policy, start order, encode and decode) on
/// generated manifests of n components: chains of `depends_on`, a service every 10th component provides and
/// the next nine use, one MMIO page each, and a VM for every 100th component. Printed by
/// `mkimage benchmark` and the ManifestBenchmarkTests; figures in docs/DESIGN.md.
public enum CheckBenchmark {
    public struct Figure: CustomStringConvertible {
        public var components: Int
        public var bytes: Int
        public var seconds: Double
        public var accepted: Bool

        public var description: String {
            let ms = (seconds * 1000 * 10).rounded() / 10
            return "check \(components) components (\(bytes) bytes): \(ms) ms" + (accepted ? "" : " (REJECTED)")
        }
    }

    /// RAM of the benchmark's target: room for 100,000 components' quotas and kernel quotas.
    public static let targetMemory: UInt64 = 64 << 30

    public static func manifest(components n: Int) -> String {
        var text = "[machine]\ninterrupts = 24\n"
        text.reserveCapacity(n * 160)
        for i in 0..<n {
            text += "\n[[component]]\nname = \"c\(i)\"\nbinary = \"app\"\nmemory = 4K\n"
            text += "mmio = [[0x\(String((1 << 40) + UInt64(i) * 4096, radix: 16)), 4K]]\n"
            if i > 0 { text += "depends_on = [\"c\(i - 1)\"]\n" }
            if i % 10 == 0 {
                text += "vmm = \(i % 100 == 0)\n[[component.provides]]\nname = \"svc\(i)\"\nkind = \"log\"\n"
            } else {
                text += "[[component.uses]]\nname = \"log\"\nprovider = \"c\(i - i % 10)\"\n"
            }
        }
        for i in stride(from: 0, to: n, by: 100) {
            text += "\n[[vm]]\nname = \"vm\(i)\"\nvmm = \"c\(i)\"\ntest_image = \"guest\"\nmemory = 4K\n"
        }
        return text
    }

    public static func run(components n: Int) -> Figure {
        let text = manifest(components: n)
        // Built at run time like mkimage's --manifest path (a literal would be a static string, free to copy).
        let file = "generated-\(n)-components.toml"
        let clock = ContinuousClock()
        var accepted = false
        let elapsed = clock.measure {
            let result = ManifestCompiler.compile(source: text, file: file,
                                                  target: .q35OVMF(memory: targetMemory), binaryExists: { _ in true })
            if case .success = result { accepted = true }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Figure(components: n, bytes: text.utf8.count, seconds: seconds, accepted: accepted)
    }
}
