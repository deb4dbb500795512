/// A host function that runs as user code: it gets its EC's `SimUserPlatform` and the EC's initial rdi
/// (the start-info or boot-info address, per the start convention).
public typealias SimProgramEntry = (SimUserPlatform, UInt64) -> Void

/// A simulated program: a name (its binary name in the manifest/bundle) and its entry points. Entry 0 is the
/// ELF entry; more entries serve as portal handlers or extra threads (`SimUserPlatform.entryAddress(_:)`).
public struct SimProgram {
    public let name: String
    public let entries: [SimProgramEntry]

    public init(name: String, entries: [SimProgramEntry]) {
        precondition(!entries.isEmpty, "a program needs at least one entry")
        self.name = name
        self.entries = entries
    }

    public init(name: String, main: @escaping SimProgramEntry) { self.init(name: name, entries: [main]) }

    public var id: UInt64 { Self.id(name: name) }

    /// The id written into code records: FNV-1a of the name, so an image names its program independently of any
    /// registry.
    public static func id(name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }

    /// This program's ELF image (see `SimProgramImage`).
    public func image(base: UInt64 = SimProgramImage.defaultBase, dataPages: UInt64 = 1) -> [UInt8] {
        SimProgramImage.elf(programID: id, entryCount: entries.count, base: base, dataPages: dataPages)
    }
}

/// The programs a simulated machine can run, by name and by id.
public final class SimProgramRegistry {
    private var byID: [UInt64: SimProgram] = [:]

    public init(_ programs: [SimProgram] = []) {
        for p in programs { register(p) }
    }

    public func register(_ program: SimProgram) {
        if let existing = byID[program.id] {
            precondition(existing.name == program.name,
                         "program names \(existing.name) and \(program.name) have the same id")
        }
        byID[program.id] = program
    }

    public func program(id: UInt64) -> SimProgram? { byID[id] }
    public func program(named name: String) -> SimProgram? { byID[SimProgram.id(name: name)] }
    public var names: [String] { byID.values.map(\.name).sorted() }
}
