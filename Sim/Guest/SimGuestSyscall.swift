/// SYSCALL's architectural effect, which Unicorn 2.1.4 does not perform (it runs SYSCALL as a no-op; SYSRET works):
/// RCX = next rip, R11 = RFLAGS, RFLAGS &= ~SFMASK, CS/SS from STAR[47:32], rip = LSTAR (CSTAR from compatibility
/// mode; the legacy-mode form jumps to STAR[31:0]).
enum SimGuestSyscall {
    static func perform(_ state: inout SimGuestState, nextRip: UInt64) throws(SimGuestFault) {
        guard state.efer & 1 != 0 else { throw .exception(vector: 6, errorCode: nil, cr2: nil) } // EFER.SCE clear: #UD
        let selector = UInt16(truncatingIfNeeded: state.star >> 32) & 0xfffc
        if state.longModeActive {
            state.rcx = nextRip
            state.r11 = state.rflags & ~0x10000
            state.rflags = (state.rflags & ~state.sfmask & ~0x10000) | 2
            state.rip = state.cs.longMode ? state.lstar : state.cstar
            state.cs = SimGuestSegment(selector: selector, base: 0, limit: 0xffff_ffff, attributes: 0xa9b)
        } else {
            state.rcx = nextRip & 0xffff_ffff
            state.rflags &= ~UInt64(0x200 | 0x20000 | 0x10000)
            state.rip = state.star & 0xffff_ffff
            state.cs = SimGuestSegment(selector: selector, base: 0, limit: 0xffff_ffff, attributes: 0xc9b)
        }
        state.ss = SimGuestSegment(selector: selector &+ 8, base: 0, limit: 0xffff_ffff, attributes: 0xc93)
    }
}
