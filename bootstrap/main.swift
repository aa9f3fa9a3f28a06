// The Lambda `bootstrap`: reads the environment, builds the handler named by `_HANDLER`, runs the loop.
// Everything else lives in the LambdaRuntime and Functions modules.
import Functions
import LambdaRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

exit(LambdaRuntime.run(registry: FunctionRegistry.all))
