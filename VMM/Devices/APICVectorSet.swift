/// A set of the 256 interrupt vectors: the local APIC's IRR, ISR and TMR, read by the guest as eight 32-bit
/// registers. Bit v is vector v; higher vectors have higher priority.
struct APICVectorSet: Equatable {
    private var low: UInt64 = 0        // vectors 0-63
    private var lowMiddle: UInt64 = 0  // 64-127
    private var highMiddle: UInt64 = 0 // 128-191
    private var high: UInt64 = 0       // 192-255

    private func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: return low
        case 1: return lowMiddle
        case 2: return highMiddle
        default: return high
        }
    }

    private mutating func setWord(_ index: Int, _ value: UInt64) {
        switch index {
        case 0: low = value
        case 1: lowMiddle = value
        case 2: highMiddle = value
        default: high = value
        }
    }

    func contains(_ vector: UInt8) -> Bool { word(Int(vector >> 6)) & (1 << UInt64(vector & 63)) != 0 }

    mutating func insert(_ vector: UInt8) {
        setWord(Int(vector >> 6), word(Int(vector >> 6)) | 1 << UInt64(vector & 63))
    }

    mutating func remove(_ vector: UInt8) {
        setWord(Int(vector >> 6), word(Int(vector >> 6)) & ~(1 << UInt64(vector & 63)))
    }

    var isEmpty: Bool { low | lowMiddle | highMiddle | high == 0 }

    /// The highest vector in the set.
    var highest: UInt8? {
        for index in [3, 2, 1, 0] where word(index) != 0 {
            return UInt8(index * 64 + 63 - word(index).leadingZeroBitCount)
        }
        return nil
    }

    /// Register `index` (0-7) of the guest's view: vectors 32*index ... 32*index+31.
    func register(_ index: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: word((index & 7) >> 1) >> UInt64((index & 1) * 32))
    }

    /// Every vector in the set, lowest first.
    var vectors: [UInt8] {
        var result: [UInt8] = []
        for index in 0..<4 {
            var bits = word(index)
            while bits != 0 {
                result.append(UInt8(index * 64 + bits.trailingZeroBitCount))
                bits &= bits - 1
            }
        }
        return result
    }
}
