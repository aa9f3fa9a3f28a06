import Foundation
import Testing

/// The NEON path, cross-compiled for aarch64 (Lambda's Graviton) and run under qemu-user against the scalar
/// reference; skipped, visibly, where the cross compiler or qemu is missing (deploy/test installs both).
@Suite struct NEONUnderQEMUTests {
    static let tools =
        FileManager.default.isExecutableFile(atPath: "/usr/bin/aarch64-linux-gnu-gcc")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-aarch64")

    @Test(.enabled(if: tools, "gcc-aarch64-linux-gnu or qemu-user is not installed (deploy/test installs them)"))
    func neonMatchesScalarUnderQEMU() throws {
        let kernels = CrossCheck.kernels
        let binary = NSTemporaryDirectory() + "flint-neon-check-\(getpid())"
        defer { unlink(binary) }
        let build = try CrossCheck.run([
            "/usr/bin/aarch64-linux-gnu-gcc", "-O2", "-static", "-I", "\(kernels)/include",
            CrossCheck.checker("neon_check.c"), "\(kernels)/linear_generic.c", "\(kernels)/linear_neon.c",
            "\(kernels)/dispatch.c", "\(kernels)/ops.c", "\(kernels)/threads.c", "-pthread", "-lm",
            "-o", binary,
        ])
        #expect(build.0 == 0, "cross compile failed: \(build.1)")
        let check = try CrossCheck.run(["/usr/bin/qemu-aarch64", "-cpu", "max", binary])
        #expect(check.0 == 0 && check.1.hasPrefix("ok "), "NEON check said: \(check.1)")
        // A CPU without the dot-product extension must not be handed the NEON path.
        let old = try CrossCheck.run(["/usr/bin/qemu-aarch64", "-cpu", "cortex-a53", binary])
        #expect(old.1.hasPrefix("no dotprod"))
    }
}
