import KernelABI
import ManifestFormat
import UserRuntime

/// VM end reports (`VMEndReport`): a VMM says that one of its VMs powered off, reset itself or was stopped. The root
/// task prints it and records it per VMM incarnation (a restarted VMM boots its guests again, so they can end again).
extension Supervisor {
    func reportVMEnd(_ vmm: Int) -> Status {
        if let landed = mailbox.firstTypedItem { _ = sys.revoke(landed, includeSelf: true) }
        let vms = system.vms(runBy: vmm)
        guard system.components[vmm].isVMM else {
            console.line("root: \(name(vmm)) reported the end of a VM, but runs none")
            return .badState
        }
        guard mailbox.untypedCount == 3, mailbox.typedCount == 0, mailbox.data(1) < UInt64(vms.count),
              let how = VMEndReport.How(rawValue: mailbox.data(2)) else {
            console.line("root: \(name(vmm)) sent a malformed VM end report (VM \(mailbox.data(1)), "
                         + "how \(mailbox.data(2)))")
            return .badRange
        }
        let vm = Int(mailbox.data(1))
        guard !records[vmm].endedVMs.contains(vm) else {
            console.line("root: \(name(vmm)) reported the end of VM \(vms[vm].name) twice")
            return .badState
        }
        records[vmm].endedVMs.append(vm)
        logLine(for: vmm, "root: \(name(vmm)) reports: VM \(vms[vm].name) \(how.description)")
        return .success
    }

    /// A line about component `index` through the log service it uses, if it has one, so that it cannot land inside
    /// a line that service is writing to the same UART (the kernel console bypasses it); else on the kernel console.
    func logLine(for index: Int, _ text: String) {
        let routes = system.components[index].uses
        if let route = routes.first(where: { system.components[$0.provider].provides[$0.service].kind == "log" }),
           let portal = records[route.provider].servicePortals[route.service],
           LogClient(utcb: UTCB(platform: platform, base: AddressLayout.rootUTCB), portal: portal)
               .write(text + "\n") == .success {
            return
        }
        console.line(text)
    }
}
