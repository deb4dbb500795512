/// The "instruction" a simulated program image holds at each of its entry points: 32 bytes,
///   0 magic "SIMCODE\0", 8 program id (`SimProgram.id(name:)`), 16 entry index, 24 zero.
/// The executor reads it through the EC's page tables when the kernel enters user code at its address. While a
/// program runs, its EC's rip reads `address + resumeOffset` (inside the "function", as after a `syscall`), and
/// after the host function returned `address + returnOffset`: neither is a record start, so re-entering there
/// without the thread executes no valid code (#UD).
public struct SimCodeRecord: Equatable, Sendable {
    public static let size: UInt64 = 32
    public static let magic: UInt64 = 0x0045_444f_434d_4953 // "SIMCODE\0" little-endian
    public static let resumeOffset: UInt64 = 16
    public static let returnOffset: UInt64 = 24

    public var programID: UInt64
    public var entryIndex: UInt64

    public init(programID: UInt64, entryIndex: UInt64) {
        self.programID = programID
        self.entryIndex = entryIndex
    }

    public var words: [UInt64] { [Self.magic, programID, entryIndex, 0] }

    public var bytes: [UInt8] {
        words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) } }
    }

    /// Decodes four words; nil when they are not a record (bad magic or nonzero padding).
    public init?(words: [UInt64]) {
        guard words.count == 4, words[0] == Self.magic, words[3] == 0 else { return nil }
        programID = words[1]
        entryIndex = words[2]
    }
}
