/// The entry point libFuzzer calls with each input: returns 0 (a crash, trap or sanitizer report
/// is the finding).
public typealias FuzzTestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

// libFuzzer's own driver (compiler-rt, linked by `-sanitize=fuzzer`). SwiftPM gives every
// executable a `main` of its own, so a fuzz target's `main` hands its arguments to this driver
// instead of relying on libFuzzer's `main`.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ testOneInput: FuzzTestOneInput
) -> CInt

@_silgen_name("exit")
private func exitProcess(_ status: CInt) -> Never

/// Runs libFuzzer with the process's arguments (`-max_total_time=N CORPUS_DIR...`, or files to
/// replay) on `testOneInput`, and exits with its status.
public func runLibFuzzer(_ testOneInput: FuzzTestOneInput) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exitProcess(withUnsafeMutablePointer(to: &argv) { pointer in
        LLVMFuzzerRunDriver(&argc, pointer, testOneInput)
    })
}

/// A fuzz input as bytes; empty when libFuzzer passes no pointer.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Stops the run with a finding when a property the code promises does not hold (libFuzzer
/// saves the input that broke it).
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError("fuzz property broken: \(message())", file: file, line: line) }
}
