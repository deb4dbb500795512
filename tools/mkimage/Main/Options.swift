/// The command line: `mkimage build|check|dot` with `--name value` options.
struct Options {
    enum Command: String { case build, check, dot }

    static let usage = """
        usage: mkimage build --manifest M --binaries DIR --loader EFI --kernel ELF -o IMAGE [--memory BYTES]
               mkimage check --manifest M --binaries DIR [--memory BYTES]
               mkimage dot --manifest M -o FILE
        build without --manifest makes an image whose bundle holds only the root task (no manifest module).
        """

    /// RAM of the machine tools/run boots (-m 512M); the manifest's memory must fit in it.
    static let defaultMachineMemory: UInt64 = 512 << 20

    var command: Command
    var manifest: String?
    var binaries: String?
    var loader: String?
    var kernel: String?
    var output: String?
    var machineMemory: UInt64 = defaultMachineMemory

    init(_ arguments: [String]) throws(MkimageError) {
        guard let first = arguments.first else { throw MkimageError("missing command\n" + Self.usage) }
        guard let command = Command(rawValue: first) else {
            throw MkimageError("unknown command '\(first)'\n" + Self.usage)
        }
        self.command = command
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw MkimageError("option \(flag) needs a value") }
            switch flag {
            case "--manifest": manifest = value
            case "--binaries": binaries = value
            case "--loader": loader = value
            case "--kernel": kernel = value
            case "-o", "--output": output = value
            case "--memory":
                guard let bytes = UInt64(value), bytes > 0 else {
                    throw MkimageError("--memory needs a positive number of bytes, got '\(value)'")
                }
                machineMemory = bytes
            default: throw MkimageError("unknown option '\(flag)'\n" + Self.usage)
            }
        }
        switch command {
        case .build: try require(("--binaries", binaries), ("--loader", loader), ("--kernel", kernel), ("-o", output))
        case .check: try require(("--manifest", manifest), ("--binaries", binaries))
        case .dot: try require(("--manifest", manifest), ("-o", output))
        }
    }

    private func require(_ options: (String, String?)...) throws(MkimageError) {
        let missing = options.filter { $0.1 == nil }.map { $0.0 }
        guard missing.isEmpty else {
            throw MkimageError("\(command.rawValue) needs \(missing.joined(separator: ", "))\n" + Self.usage)
        }
    }
}
