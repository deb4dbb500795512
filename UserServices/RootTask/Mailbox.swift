import KernelABI
import UserRuntime

/// The page through which the root's handler EC passes each portal call to the main EC, which does the work (so
/// all of the root task's state lives on one EC). Words: 0 portal id, 1 untyped count, 2 typed count,
/// 3..<3+`copiedWords` the first untyped words, then the reply status and the base of the landing block (the
/// handler's receive window, restored before each reply).
struct Mailbox<P: UserPlatform> {
    static var copiedWords: Int { FaultMessage.words }
    static var replyStatusWord: Int { 3 + copiedWords }
    static var receiveSelectorWord: Int { 4 + copiedWords }
    static var firstTypedItemWord: Int { 5 + copiedWords }

    let platform: P
    let base: UInt64

    func word(_ i: Int) -> UInt64 { platform.load64(base + UInt64(i) * 8) }
    func setWord(_ i: Int, _ v: UInt64) { platform.store64(base + UInt64(i) * 8, v) }

    var portalID: UInt64 { word(0) }
    var untypedCount: Int { Int(word(1)) }
    var typedCount: Int { Int(word(2)) }
    func data(_ i: Int) -> UInt64 { i < untypedCount && i < Self.copiedWords ? word(3 + i) : 0 }

    /// The first typed item as it landed (a CRD word in the root's space; 0 when none arrived).
    var firstTypedItem: CapabilityRange? { typedCount > 0 ? CapabilityRange(word: word(Self.firstTypedItemWord)) : nil }

    var replyStatus: Status {
        get { Status(rawValue: word(Self.replyStatusWord)) ?? .badState }
        nonmutating set { setWord(Self.replyStatusWord, newValue.rawValue) }
    }
    var receiveSelector: UInt64 {
        get { word(Self.receiveSelectorWord) }
        nonmutating set { setWord(Self.receiveSelectorWord, newValue) }
    }

    /// Copies the call in `utcb` (the handler's) into the mailbox.
    func record(_ utcb: UTCB<P>) {
        setWord(0, utcb.portalID)
        setWord(1, UInt64(utcb.untypedCount))
        setWord(2, UInt64(utcb.typedCount))
        for i in 0..<Self.copiedWords { setWord(3 + i, i < utcb.untypedCount ? utcb.data(i) : 0) }
        setWord(Self.firstTypedItemWord, utcb.typedCount > 0 ? utcb.data(utcb.untypedCount) : 0)
    }
}
