/// Maps the `_HANDLER` names a bootstrap can serve to factories that build their handlers.
///
/// A factory runs once, during init; if it throws, the runtime reports `Runtime.ConfigInvalid` (a
/// ``ConfigurationError``) or `Runtime.InitError` (anything else) to `/runtime/init/error` and exits. It holds factories, not handlers, so an unused function costs nothing.
///
/// ```swift
/// let registry = HandlerRegistry(["echo": { _ in Echo() }])
/// ```
public struct HandlerRegistry: Sendable {
    /// Builds a handler once per environment.
    public typealias Factory = @Sendable (HandlerInitContext) throws -> any LambdaHandler

    private let factories: [String: Factory]

    /// Creates a registry from `name: factory` pairs.
    public init(_ factories: [String: Factory]) {
        self.factories = factories
    }

    /// The names served, sorted.
    public var names: [String] { factories.keys.sorted() }

    /// The factory for `name`, or nil when no handler has that name.
    public func factory(named name: String) -> Factory? { factories[name] }
}
