/// The keys each table of a manifest may contain, with the type and an example for error messages.
enum ManifestSchema {
    enum ValueType {
        case string, integer, bool, stringArray, integerArray, rangeArray, table, tableArray

        var description: String {
            switch self {
            case .string: return "a string"
            case .integer: return "an integer"
            case .bool: return "a boolean"
            case .stringArray: return "an array of strings"
            case .integerArray: return "an array of integers"
            case .rangeArray: return "an array of [start, size] pairs"
            case .table: return "a [table] section"
            case .tableArray: return "a list of [[...]] sections"
            }
        }
    }

    struct Key {
        var name: String
        var type: ValueType
        var example: String
    }

    static let topLevel = [
        Key(name: "machine", type: .table, example: "[machine]"),
        Key(name: "component", type: .tableArray, example: "[[component]]"),
        Key(name: "vm", type: .tableArray, example: "[[vm]]"),
    ]

    static let machine = [
        Key(name: "memory", type: .integer, example: "512M"),
        Key(name: "interrupts", type: .integer, example: "24"),
    ]

    static let component = [
        Key(name: "name", type: .string, example: "\"serial\""),
        Key(name: "binary", type: .string, example: "\"serial\""),
        Key(name: "memory", type: .integer, example: "1M"),
        Key(name: "priority", type: .integer, example: "10"),
        Key(name: "budget_ms", type: .integer, example: "10"),
        Key(name: "io_ports", type: .rangeArray, example: "[[0x3f8, 8]]"),
        Key(name: "mmio", type: .rangeArray, example: "[[0xfebf0000, 4K]]"),
        Key(name: "interrupts", type: .integerArray, example: "[4]"),
        Key(name: "pci_devices", type: .stringArray, example: "[\"1af4:1001\"]"),
        Key(name: "provides", type: .tableArray, example: "[[component.provides]]"),
        Key(name: "uses", type: .tableArray, example: "[[component.uses]]"),
        Key(name: "depends_on", type: .stringArray, example: "[\"serial\"]"),
        Key(name: "restart_on_fault", type: .bool, example: "true"),
        Key(name: "vmm", type: .bool, example: "true"),
    ]

    static let service = [
        Key(name: "name", type: .string, example: "\"log\""),
        Key(name: "kind", type: .string, example: "\"log\""),
    ]

    static let route = [
        Key(name: "name", type: .string, example: "\"log\""),
        Key(name: "kind", type: .string, example: "\"log\""),
        Key(name: "provider", type: .string, example: "\"serial\""),
        Key(name: "service", type: .string, example: "\"log\""),
    ]

    static let vm = [
        Key(name: "name", type: .string, example: "\"guest\""),
        Key(name: "vmm", type: .string, example: "\"vmm\""),
        Key(name: "kernel", type: .string, example: "\"bzImage\""),
        Key(name: "initrd", type: .string, example: "\"initrd\""),
        Key(name: "cmdline", type: .string, example: "\"console=ttyS0\""),
        Key(name: "disk", type: .string, example: "\"disk.img\""),
        Key(name: "disk_service", type: .string, example: "\"block\""),
        Key(name: "test_image", type: .string, example: "\"guest-test\""),
        Key(name: "memory", type: .integer, example: "128M"),
        Key(name: "vcpus", type: .integer, example: "1"),
        Key(name: "nested", type: .bool, example: "false"),
        Key(name: "services", type: .tableArray, example: "[[vm.services]]"),
    ]

    static let defaultPriority: UInt64 = 10
    static let defaultBudgetMilliseconds: UInt64 = 10
    static let defaultInterruptCount: UInt64 = 24
    static let maxNameLength = 63
    /// The kind of service through which a component assigned PCI devices reaches their configuration space.
    static let pciServiceKind = "pci"
}
