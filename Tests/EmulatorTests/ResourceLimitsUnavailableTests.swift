import Foundation
import Testing

@testable import Emulator

/// Where no cgroup hierarchy can be used, the emulator says why in one line (and runs unlimited).
@Suite struct ResourceLimitsUnavailableTests {
    @Test func aMissingHierarchyIsOneLine() throws {
        let root = NSTemporaryDirectory() + "flint-no-cgroups-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        guard case .failure(let reason) = ResourceLimits.open(root: root) else {
            Issue.record("an empty directory is not a cgroup hierarchy")
            return
        }
        #expect(reason.description == "no cgroup hierarchy with the cpu and memory controllers at \(root)")
        #expect(ResourceLimits.cpuShare(memoryMegabytes: 885, machineCPUs: 2) == 885.0 / 1769)
        #expect(ResourceLimits.cpuShare(memoryMegabytes: 10_240, machineCPUs: 64) == 10_240.0 / 1769)
        #expect(ResourceLimits.cpuShare(memoryMegabytes: 12_000, machineCPUs: 64) == 6)
        #expect(ResourceLimits.cpuShare(memoryMegabytes: 10_240, machineCPUs: 2) == 2)
    }
}
