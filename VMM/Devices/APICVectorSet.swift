/// A set of the 256 interrupt vectors: the local APIC's IRR, ISR and TMR, read by the guest as eight 32-bit
/// registers. Bit v is vector v; higher vectors have higher priority.
struct APICVectorSet: Equatable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (a: APICVectorSet, b: APICVectorSet) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    private func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: return words.0
        case 1: return words.1
        case 2: return words.2
        default: return words.3
        }
    }

    private mutating func setWord(_ index: Int, _ value: UInt64) {
        switch index {
        case 0: words.0 = value
        case 1: words.1 = value
        case 2: words.2 = value
        default: words.3 = value
        }
    }

    func contains(_ vector: UInt8) -> Bool { word(Int(vector >> 6)) & (1 << UInt64(vector & 63)) != 0 }

    mutating func insert(_ vector: UInt8) {
        setWord(Int(vector >> 6), word(Int(vector >> 6)) | 1 << UInt64(vector & 63))
    }

    mutating func remove(_ vector: UInt8) {
        setWord(Int(vector >> 6), word(Int(vector >> 6)) & ~(1 << UInt64(vector & 63)))
    }

    var isEmpty: Bool { words.0 | words.1 | words.2 | words.3 == 0 }

    /// The highest vector in the set.
    var highest: UInt8? {
        for index in stride(from: 3, through: 0, by: -1) where word(index) != 0 {
            return UInt8(index * 64 + 63 - word(index).leadingZeroBitCount)
        }
        return nil
    }

    /// Register `index` (0-7) of the guest's view: vectors 32*index ... 32*index+31.
    func register(_ index: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: word((index & 7) >> 1) >> UInt64((index & 1) * 32))
    }

    /// Every vector in the set, lowest first.
    var vectors: [UInt8] { (0...255).compactMap { contains(UInt8($0)) ? UInt8($0) : nil } }
}
