import KernelABI
import UserRuntime

/// Stand-in for the "vmm" binary until the VMM lands with the virtualization issues (see VMM/README.md): it runs
/// no VM. It reads the VMs the root task listed in its start-info page (from the manifest) and says, through its
/// "log" service, what it would run, one line per VM, then idles.
public func vmmPlaceholderMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    if let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)),
       let portal = info.portal(forService: "log") {
        let log = LogClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb), portal: portal)
        let me = String(decoding: info.name, as: UTF8.self)
        for vm in info.vms {
            log.write(VMMPlaceholder.line(component: me, vm: vm) + "\n")
        }
    }
    let idle = ComponentSelectors.firstFree
    _ = sys.createSM(idle, count: 0)
    while sys.down(sm: idle) == .success {}
}

public enum VMMPlaceholder {
    /// "vmm-a: would run guest-a (image guest-test, 64 MiB, 1 vCPU); no VM runs yet: the VMM lands with the
    /// virtualization issues"
    public static func line(component: String, vm: ComponentStartInfo.VirtualMachine) -> String {
        let name = String(decoding: vm.name, as: UTF8.self)
        let image = String(decoding: vm.image, as: UTF8.self)
        var text = component + ": would run " + name + " (image " + image + ", \(vm.memory >> 20) MiB, \(vm.vcpus) vCPU"
        if vm.vcpus != 1 { text += "s" }
        if vm.nested { text += ", nested" }
        return text + "); no VM runs yet: the VMM lands with the virtualization issues"
    }
}
