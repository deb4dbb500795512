import InstructionDecoder

/// Bytes from a hex string ("8b 45 08" or "8b4508").
func bytes(_ hex: String) -> [UInt8] {
    let digits = hex.filter { !$0.isWhitespace }
    return stride(from: 0, to: digits.count, by: 2).map { offset in
        let start = digits.index(digits.startIndex, offsetBy: offset)
        return UInt8(digits[start..<digits.index(start, offsetBy: 2)], radix: 16)!
    }
}

/// A sparse byte-addressed memory standing in for the VMM's MMIO and RAM routing, with a log of every access
/// ("r 4 @1000", "w 1 @2000 = 5a") and addresses that refuse access.
final class TestMemory {
    var bytes: [UInt64: UInt8] = [:]
    var log: [String] = []
    var refused: Set<UInt64> = []

    func read(_ address: UInt64, _ size: Int) -> UInt64? {
        log.append("r \(size) @\(String(address, radix: 16))")
        guard !refused.contains(address) else { return nil }
        var value: UInt64 = 0
        for offset in 0..<size { value |= UInt64(bytes[address &+ UInt64(offset)] ?? 0) << UInt64(offset * 8) }
        return value
    }

    func write(_ address: UInt64, _ size: Int, _ value: UInt64) -> Bool {
        log.append("w \(size) @\(String(address, radix: 16)) = \(String(value, radix: 16))")
        guard !refused.contains(address) else { return false }
        store(address, size, value)
        return true
    }

    func store(_ address: UInt64, _ size: Int, _ value: UInt64) {
        for offset in 0..<size { bytes[address &+ UInt64(offset)] = UInt8(truncatingIfNeeded: value >> UInt64(offset * 8)) }
    }

    func load(_ address: UInt64, _ size: Int) -> UInt64 {
        var value: UInt64 = 0
        for offset in 0..<size { value |= UInt64(bytes[address &+ UInt64(offset)] ?? 0) << UInt64(offset * 8) }
        return value
    }
}

/// Decodes `hex` in `mode` and emulates it on `state` with `memory`.
@discardableResult
func emulate(_ hex: String, _ mode: CodeMode = .bits64, state: inout GuestCPUState, memory: TestMemory,
         emulator: InstructionEmulator = InstructionEmulator()) throws -> EmulationOutcome {
    let instruction = try decodeInstruction(bytes(hex), mode: mode)
    return try emulator.emulate(instruction, state: &state, read: memory.read, write: memory.write)
}
