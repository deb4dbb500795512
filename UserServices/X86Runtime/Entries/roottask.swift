// modules: KernelABI UserRuntime
// heap: 8388608
// Temporary root task entry until UserServices/RootTask provides its Swift entry (interface E): proves ring 3, the
// syscall path and the console hypercall on the image.
import KernelABI
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    let calls = SystemCalls(X86UserPlatform(utcbAddress: AddressLayout.rootUTCB))
    calls.print("root: ready\n")
}
