import KernelABI
import UserRuntime

/// The per-tenant VMM (entry slot 0). For each VM the root task gave it (start-info page): a VM PD with the
/// guest's RAM delegated at guest-physical 0, the guest image loaded, and per vCPU a handler EC (entry slot 1 + its
/// global handler number), one exit portal per `VMExit` at the vCPU's event base, the vCPU and its SC. Then the
/// main EC idles; the handlers serve the exits (ExitHandler.swift). A VM that cannot be built is reported on the
/// log service and the others still run.
public func vmmMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    _ = sys.createSM(VMMLayout.idleSM, count: 0)
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)) else {
        return park(sys, VMMLayout.idleSM)
    }
    let log = info.portal(forService: "log").map {
        LogClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb), portal: $0)
    }
    let me = String(decoding: info.name, as: UTF8.self)
    func report(_ text: String) { _ = log?.write(me + ": " + text + "\n") }

    let vcpuTotal = info.vms.reduce(UInt64(0)) { $0 + $1.vcpus }
    let diskBuffers = info.vms.filter { !$0.diskService.isEmpty }.count
    let heapNeeded = VMMLayout.heapBytes(vms: info.vms.count, vcpus: vcpuTotal, diskBuffers: diskBuffers)
    guard info.vms.count <= VMMLayout.maxVMs, vcpuTotal <= UInt64(VMMLayout.maxHandlers), heapNeeded <= info.heapSize else {
        report("cannot run \(info.vms.count) VMs with \(vcpuTotal) vCPUs and \(diskBuffers) disk services: at most "
               + "\(VMMLayout.maxVMs) VMs and \(VMMLayout.maxHandlers) vCPUs, and \(heapNeeded) "
               + "bytes of heap region (have \(info.heapSize))")
        return park(sys, VMMLayout.idleSM)
    }
    // A fresh device table (the VMs' PCs), before any handler can run.
    platform.componentState = VMMDeviceTable<P>()
    var handler = 0
    for (i, vm) in info.vms.enumerated() {
        let name = String(decoding: vm.name, as: UTF8.self)
        switch VirtualMachineBuilder(platform: platform, info: info, number: i, handlerBase: handler).build(vm) {
        case .success: report("running \(name) (\(vm.memory >> 20) MiB, \(vm.vcpus) vCPU\(vm.vcpus == 1 ? "" : "s"))")
        case .failure(let why):
            report("cannot run \(name): \(why)")
            let status = VMEndReport.send(UTCB(platform: platform, base: ComponentLayout.utcb), vm: i, how: .stopped)
            if status != .success { report("the root task refused the end report of \(name) (\(status))") }
        }
        handler += Int(vm.vcpus)
    }
    recallAtDeadlines(platform, info)
}

/// The main EC's life after the build: when any VM has a PC, it wakes at the earliest device deadline its
/// handlers published (`VMControlBlock.nextDeadline`) and recalls that VM's vCPU, whose recall exit then injects
/// what fell due (a guest spinning on jiffies makes no exits of its own). Without PCs it parks.
func recallAtDeadlines<P: UserPlatform>(_ platform: P, _ info: ComponentStartInfo) {
    let sys = SystemCalls(platform)
    let pcs = (0..<info.vms.count).filter { VMMDeviceTable<P>.machine(platform, vm: $0) != nil }
    guard !pcs.isEmpty else { return park(sys, VMMLayout.idleSM) }
    var recalled = [UInt64](repeating: 0, count: info.vms.count)
    let poll = info.ticksPerMillisecond &* 10
    while true {
        let now = platform.timestamp()
        var wake = now &+ poll
        for i in pcs {
            let control = VMControlBlock(platform: platform, base: info.heapBase + UInt64(i) * VMControlBlock<P>.bytes)
            let deadline = control.nextDeadline
            guard !control.stopped, deadline != 0 else { continue }
            if deadline <= now {
                if recalled[i] != deadline { _ = sys.recall(ec: VMMLayout.vcpuEC(i, 0)) }
                recalled[i] = deadline
            } else {
                wake = min(wake, deadline)
            }
        }
        _ = sys.down(sm: VMMLayout.idleSM, deadline: wake)
    }
}

/// Blocks the calling EC for good on `sm` (which nobody ups).
func park<P: UserPlatform>(_ sys: SystemCalls<P>, _ sm: UInt64) {
    while sys.down(sm: sm) == .success {}
}
