/// What stops an access the guest CPU makes on the guest's behalf (event delivery, SYSCALL, page-table walks).
enum SimGuestFault: Error, Equatable {
    /// A guest exception to raise (a #PF carries CR2).
    case exception(vector: UInt8, errorCode: UInt32?, cr2: UInt64?)
    /// The nested mapping does not allow the access: a nested-page-fault exit.
    case nested(guestPhysical: UInt64, access: SimGuestAccess)
    /// The nested mapping is broken (host memory beyond RAM): a failed entry.
    case broken(SimGuestEntryError)

    static func pageFault(_ linear: UInt64, _ errorCode: UInt32) -> SimGuestFault {
        .exception(vector: 14, errorCode: errorCode, cr2: linear)
    }
    static func gp(_ errorCode: UInt32 = 0) -> SimGuestFault { .exception(vector: 13, errorCode: errorCode, cr2: nil) }
}
