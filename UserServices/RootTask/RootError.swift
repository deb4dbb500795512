import BootFormat
import ELFFormat
import KernelABI
import ManifestFormat
import UserRuntime

/// Why the root task could not build the system or one component; the description is the console message.
public enum RootError: Error, Equatable, CustomStringConvertible {
    case bootInfo(RootBootInfo.DecodeError)
    case bundle(BootBundleError)
    /// The bundle has no module called `name` (`what` says who needed it).
    case missingModule(name: String, what: String)
    case manifest(ManifestDecodeError)
    case startOrder(StartOrder.Failure)
    case badBinary(component: String, binary: String, ELFError)
    /// The component's memory quota cannot hold its image, stack and start-info page.
    case quotaTooSmall(component: String, neededPages: UInt64, quotaPages: UInt64)
    case outOfMemory(component: String)
    case outOfSelectors
    case startInfo(component: String, ComponentStartInfo.EncodeError)
    /// `provider` has not registered the service `service` that `component` uses.
    case serviceNotRegistered(component: String, provider: String, service: String)
    /// A prerequisite of `component` is not running.
    case prerequisiteNotRunning(component: String, prerequisite: String)
    /// The kernel refused a hypercall: what the root task was doing, and the status.
    case hypercall(what: String, Status)
    /// The kernel refused to bind `irq` to the root's interrupt semaphore for it (e.g. the machine has no such line).
    case interruptAssignment(component: String, irq: UInt64, Status)
    /// The component's PCI devices cannot be granted (not present, taken, colliding; `PCIAssignmentError`).
    case pciAssignment(PCIAssignmentError)

    public var description: String {
        switch self {
        case .bootInfo(let e): return "boot info page: \(e)"
        case .bundle(let e): return "boot bundle: \(e)"
        case let .missingModule(name, what): return "boot bundle has no module \"\(name)\" (needed for \(what))"
        case .manifest(let e): return "compiled manifest rejected: \(e)"
        case .startOrder(let e): return "manifest start order: \(e)"
        case let .badBinary(component, binary, e): return "component \(component): binary \"\(binary)\": \(e)"
        case let .quotaTooSmall(component, needed, quota):
            return "component \(component): needs \(needed) pages but its memory quota is \(quota) pages"
        case .outOfMemory(let c): return "component \(c): the root task ran out of physical memory"
        case .outOfSelectors: return "the root task ran out of capability selectors"
        case let .startInfo(component, e):
            switch e {
            case .nameTooLong(let name):
                return "component \(component): name \"\(String(decoding: name, as: UTF8.self))\" is longer than \(ComponentStartInfo.maxNameBytes) bytes"
            case .tooManyEntries(let words):
                return "component \(component): its grants need \(words) start-info words, more than one page"
            }
        case let .serviceNotRegistered(component, provider, service):
            return "component \(component): provider \(provider) has not registered service \(service)"
        case let .prerequisiteNotRunning(component, prerequisite):
            return "component \(component): \(prerequisite), which it needs, is not running"
        case let .hypercall(what, status): return "\(what) failed: \(status)"
        case let .interruptAssignment(component, irq, status):
            return "component \(component): assigning irq \(irq) failed: \(status)"
        case .pciAssignment(let e): return e.description
        }
    }
}

extension RootBootInfo.DecodeError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .badMagic: return "bad magic word"
        case .badVersion(let v): return "version \(v) is not supported"
        case .badRegionCount(let n): return "\(n) memory regions, at most \(RootBootInfo.maxRegions)"
        case .badDeviceRegionCount(let n): return "\(n) device memory regions, at most \(RootBootInfo.maxDeviceRegions)"
        case .badFlags(let f): return "unknown flags 0x\(String(f, radix: 16))"
        case .badConfigurationWindowCount(let n):
            return "\(n) PCI configuration windows, at most \(RootBootInfo.maxConfigurationWindows)"
        }
    }
}
