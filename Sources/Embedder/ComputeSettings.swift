import CKernels

/// How the encoder computes: the kernel path, the thread pool and the activation groups, read once and checked
/// before the first forward pass.
///
/// The values come from whoever reads the process's configuration (the functions take them from the `FLINT_*`
/// variables through their init context; the benchmarks from their own environment): this type reads no
/// environment itself. Every value is checked; a bad one is a ``ComputeSettings/Invalid`` naming the variable,
/// never a silent fallback.
///
/// ```swift
/// let settings = try ComputeSettings(lookup: { name in name == "FLINT_THREADS" ? "1" : nil })
/// try settings.apply()
/// let encoder = try Encoder(model: file, activationGroup: settings.activationGroup)
/// ```
public struct ComputeSettings: Sendable, Equatable {
    /// A setting that cannot be used: the variable, its value and what it must be, in one line.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        /// What is wrong.
        public let description: String
    }

    /// `FLINT_KERNEL`: the kernel path to use (it must exist on this CPU); nil picks the best one.
    public var kernel: flint_kernel_path?
    /// `FLINT_THREADS`: intra-op threads; nil sizes the pool from the CPUs this process may use.
    public var threads: Int?
    /// The most threads a pool sized from the CPUs may have: from `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, the CPUs
    /// Lambda grants that memory size (⌈MB / 1,769⌉, at most 6; below 1,769 MB a fraction of one CPU, where a
    /// second thread only waits). Nil: no cap.
    public var cpuCap: Int?
    /// `FLINT_SPIN_US`: how long idle workers poll before sleeping, in µs; nil keeps the pool's default.
    public var spinMicroseconds: Int?
    /// `FLINT_ACTIVATION_GROUP`: activations are quantized in groups of this many values (a multiple of 4), each
    /// with its own scale; 0 gives one scale per token.
    public var activationGroup = 64

    /// The defaults: best kernel, pool sized from the CPUs, groups of 64.
    public init() {}

    /// Reads `FLINT_KERNEL`, `FLINT_THREADS`, `FLINT_SPIN_US`, `FLINT_ACTIVATION_GROUP` and Lambda's
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` through `lookup`; an unset or empty variable keeps the default.
    public init(lookup: (String) -> String?) throws(Invalid) {
        func value(_ name: String) -> String? { lookup(name).flatMap { $0.isEmpty ? nil : $0 } }
        if let name = value("FLINT_KERNEL") {
            var path = FLINT_KERNEL_SCALAR
            let known = ["scalar", "avx2", "avx512vnni", "neon"]
            guard flint_kernel_named(name, &path) != 0 else {
                throw Invalid(
                    description:
                        "FLINT_KERNEL '\(name)' is not a kernel path (one of: \(known.joined(separator: ", ")))")
            }
            guard flint_kernel_supported(path) != 0 else {
                let available = known.filter { known in
                    var candidate = FLINT_KERNEL_SCALAR
                    return flint_kernel_named(known, &candidate) != 0 && flint_kernel_supported(candidate) != 0
                }
                throw Invalid(
                    description:
                        "FLINT_KERNEL '\(name)' cannot run on this CPU (available: \(available.joined(separator: ", ")))"
                )
            }
            kernel = path
        }
        if let text = value("FLINT_THREADS") {
            guard let count = Int(text), count >= 1, count <= 16 else {
                throw Invalid(description: "FLINT_THREADS '\(text)' is not a whole number from 1 to 16")
            }
            threads = count
        }
        if let text = value("FLINT_SPIN_US") {
            guard let microseconds = Int(text), microseconds >= 0, microseconds <= 1_000_000 else {
                throw Invalid(
                    description: "FLINT_SPIN_US '\(text)' is not a whole number of microseconds from 0 to 1000000")
            }
            spinMicroseconds = microseconds
        }
        if let text = value("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), let megabytes = Int(text), megabytes > 0 {
            cpuCap = Self.lambdaCPUs(memoryMegabytes: megabytes)
        }
        if let text = value("FLINT_ACTIVATION_GROUP") {
            guard let group = Int(text), group >= 0, group % 4 == 0 else {
                throw Invalid(description: "FLINT_ACTIVATION_GROUP '\(text)' is not 0 or a positive multiple of 4")
            }
            activationGroup = group
        }
    }

    /// The whole CPUs Lambda grants a memory size: ⌈MB / 1,769⌉, from 1 to 6.
    public static func lambdaCPUs(memoryMegabytes: Int) -> Int { min(6, max(1, (memoryMegabytes + 1768) / 1769)) }

    /// Sets the kernel path and sizes the thread pool. Both are process-wide and fixed once the first kernel has
    /// run, so this must come before any encoder works; after that a setting that would change them is refused.
    public func apply() throws(Invalid) {
        if let kernel, flint_kernel_selected() != kernel, flint_kernel_force(kernel) == 0 {
            throw Invalid(
                description: "FLINT_KERNEL '\(String(cString: flint_kernel_name(kernel)))' cannot be used here")
        }
        if let cpuCap { _ = flint_pool_cap(Int32(cpuCap)) }
        guard threads != nil || spinMicroseconds != nil else { return }
        if flint_pool_configure(Int32(threads ?? 0), spinMicroseconds ?? -1) == 0, let threads,
            Int(flint_thread_count()) != threads
        {
            throw Invalid(
                description:
                    "FLINT_THREADS \(threads) comes too late: the thread pool already runs \(flint_thread_count()) threads"
            )
        }
    }
}
