import Foundation
import Testing

/// The AVX-512 VNNI kernels on a CPU without VNNI: linear_avx512vnni.c built again on SIMDe's portable intrinsics
/// (`-DFLINT_SIMDE`) with a checker against the scalar reference, bit for bit. It proves the kernels' arithmetic
/// (the activation offset and its correction, tiles, tails, column ranges), not their speed; on a VNNI CPU
/// `KernelTests` runs the native build too. Skipped, visibly, where SIMDe is missing (deploy/test installs it).
@Suite struct VNNIUnderSIMDeTests {
    static let simde = FileManager.default.fileExists(atPath: "/usr/include/simde/x86/avx512.h")
    /// The C compiler: the Swift toolchain's clang, else the system's.
    static let compiler: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for name in ["clang", "cc", "gcc"] {
            for directory in path.split(separator: ":") + ["/usr/bin"] {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }()

    #if arch(x86_64)
    @Test(
        .enabled(
            if: simde && compiler != nil, "libsimde-dev or a C compiler is not installed (deploy/test installs SIMDe)"))
    func vnniMatchesScalarUnderSIMDe() throws {
        let kernels = CrossCheck.kernels
        let binary = NSTemporaryDirectory() + "flint-vnni-check-\(getpid())"
        defer { unlink(binary) }
        let build = try CrossCheck.run([
            Self.compiler!, "-O2", "-Wno-psabi", "-DFLINT_SIMDE", "-I", "\(kernels)/include",
            CrossCheck.checker("vnni_check.c"), "\(kernels)/linear_avx512vnni.c",
            "\(kernels)/linear_generic.c", "-lm", "-o", binary,
        ])
        #expect(build.0 == 0, "compile failed: \(build.1)")
        let check = try CrossCheck.run([binary])
        #expect(check.0 == 0 && check.1.hasPrefix("ok "), "VNNI check said: \(check.1)")
    }
    #endif
}
