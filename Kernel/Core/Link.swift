/// A non-owning reference between kernel objects, for the links IPC changes on every message (an EC's caller and
/// callee, the SC it runs on). Storing, copying and comparing a Link costs no reference counting, which a strong
/// reference would pay twice per store (retain the new object, release the old) on the IPC fast path.
///
/// A link never dangles: destroying an EC or SC clears every link to it (Destruction.swift; IPC clears them as
/// calls end), and the invariant checker verifies after every step of the randomized tests that each link names a
/// live object, comparing addresses only, so a broken rule is reported rather than followed.
struct Link<Object: AnyObject>: Hashable {
    private let address: UnsafeMutableRawPointer

    init(_ object: Object) { address = Unmanaged.passUnretained(object).toOpaque() }

    /// The object linked to; valid because links to destroyed objects are cleared (above).
    var object: Object { Unmanaged<Object>.fromOpaque(address).takeUnretainedValue() }

    /// Runs `body` on the linked object without retaining it: for the fast path, where nothing can destroy the
    /// object while `body` runs (anything that may destroy objects takes a strong reference from `object`).
    @inline(__always)
    func withObject<Result>(_ body: (Object) -> Result) -> Result {
        Unmanaged<Object>.fromOpaque(address)._withUnsafeGuaranteedRef(body)
    }
}
