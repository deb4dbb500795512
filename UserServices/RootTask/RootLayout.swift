import KernelABI

/// The root task's own fixed addresses and selectors, beside what the kernel set up (`AddressLayout.root*`,
/// `RootSelectors`).
enum RootLayout {
    /// The handler EC that serves registration and event portals: its UTCB and stack.
    static let handlerUTCB: UInt64 = 0x0000_7f00_0020_0000
    static let handlerStackTop: UInt64 = 0x0000_7f00_0030_0000
    static let handlerStackPages: UInt64 = 8
    /// The page through which the handler EC passes each call to the main EC (`Mailbox`).
    static let mailbox: UInt64 = 0x0000_7f00_0040_0000

    static let handlerEC: UInt64 = RootSelectors.firstFree
    /// Upped by the handler when the mailbox holds a call; downed by the main EC.
    static let requestSM: UInt64 = RootSelectors.firstFree + 1
    /// Upped by the main EC when it has handled the call; the handler then replies.
    static let doneSM: UInt64 = RootSelectors.firstFree + 2
    /// The root halts by waiting on this semaphore, which nobody ups.
    static let haltSM: UInt64 = RootSelectors.firstFree + 3
    /// Selectors from here on are handed out by `SelectorAllocator`.
    static let firstDynamicSelector: UInt64 = RootSelectors.firstFree + 64

    /// The manifest's memory is a quota: the root maps the image, stack and start-info page, and a heap of what is
    /// left but at most this many pages (memory is not handed out before anything needs it).
    static let maxHeapPages: UInt64 = 32
    /// How often a component that faults is restarted before the root task gives up on it.
    static let maxRestarts = 3
    /// Registered portals land in one aligned block of `1 << landingOrder` selectors (the handler's receive window);
    /// each provided service of each incarnation gets its own landing selector.
    static let landingOrder: UInt64 = 10
    /// Handler entry slot of the root task binary (`EntryTable`).
    static let handlerSlot = 1
}

/// Portal ids of the root task's portals: which component called, and through which event or registration.
enum RootPortalID {
    static let registration: UInt64 = 0xff

    static func make(component: Int, event: UInt64) -> UInt64 { UInt64(component) << 8 | event }
    static func component(_ id: UInt64) -> Int { Int(truncatingIfNeeded: id >> 8) }
    static func event(_ id: UInt64) -> UInt64 { id & 0xff }
}
