import ManifestFormat
import UserRuntime

/// VM grants: what a VMM learns of the VMs the manifest gives it to run (name, guest image module, memory, vCPUs,
/// nested), through its start-info page.
extension Supervisor {
    func virtualMachines(runBy index: Int) -> [ComponentStartInfo.VirtualMachine] {
        system.vms(runBy: index).map { vm in
            let image: ManifestString
            switch vm.image {
            case .kernel(let kernel, _, _): image = kernel
            case .testImage(let test): image = test
            }
            return .init(name: vm.name.bytes, image: image.bytes, memory: vm.memory, vcpus: vm.vcpus, nested: vm.nested)
        }
    }
}
