import ManifestFormat
import RootTask
import XCTest

final class StartOrderTests: XCTestCase {
    func component(_ name: String, dependsOn: [Int] = [], uses: [Int] = [], provides: Int = 0) -> ComponentDescription {
        ComponentDescription(name: ManifestString(name), binary: "bin", memory: 1 << 20, priority: 10,
                             budgetMilliseconds: 10,
                             provides: (0..<provides).map { ServiceDescription(name: ManifestString("s\($0)"), kind: "log") },
                             uses: uses.map { ServiceRoute(name: "s0", kind: "log", provider: $0, service: 0) },
                             dependsOn: dependsOn)
    }

    func system(_ components: [ComponentDescription]) -> SystemDescription {
        SystemDescription(machineMemory: 64 << 20, interruptCount: 24, components: components, vms: [])
    }

    func testProvidersAndDependenciesStartFirstAndManifestOrderBreaksTies() throws {
        let s = system([component("app", uses: [2]), component("other"), component("log", dependsOn: [3], provides: 1),
                        component("platform")])
        XCTAssertEqual(try StartOrder.order(s), [1, 3, 2, 0])
    }

    func testAnOrderedManifestStartsAsWritten() throws {
        let s = system([component("serial", provides: 1), component("hello", uses: [0]), component("intruder", uses: [0])])
        XCTAssertEqual(try StartOrder.order(s), [0, 1, 2])
    }

    func testCyclesAreReportedWithTheirMembers() {
        let s = system([component("a", dependsOn: [1]), component("b", uses: [0]), component("c")])
        XCTAssertThrowsError(try StartOrder.order(s)) { error in
            XCTAssertEqual(error as? StartOrder.Failure, .cycle([0, 1]))
            XCTAssertEqual("\(error)", "components wait for each other and cannot start: 0 1")
        }
    }

    func testUnknownReferencesAreReported() {
        let s = system([component("a", dependsOn: [7])])
        XCTAssertThrowsError(try StartOrder.order(s)) { error in
            XCTAssertEqual(error as? StartOrder.Failure, .unknownComponent(component: 0, reference: 7))
        }
    }
}
