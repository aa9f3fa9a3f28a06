import FlintJSON
import FlintModel
import LambdaRuntime

/// A function's `function.json`, read once at init from the task root (the package puts it beside `bootstrap`).
///
/// Holds the deploy settings (`memoryMB`, `timeoutSeconds`) the emulator and the template read, and the settings the
/// handler reads: `model`, `limits`, `metrics`, `drift`, `sqs`, function-specific keys. A missing file means
/// defaults everywhere; a file that is not a JSON object, or a setting of the wrong type, fails init with the key
/// named — a typo in a deployed config must not pass silently.
public struct FunctionConfiguration: Sendable {
    /// The whole document.
    public let values: JSONValue
    /// Where it was read from (for messages), or nil when there was no file.
    public let path: String?

    /// Wraps a document already parsed (tests, `flint eval`).
    public init(values: JSONValue, path: String? = nil) {
        self.values = values
        self.path = path
    }

    /// Reads `<taskRoot>/function.json`; an absent file gives an empty configuration.
    public static func load(taskRoot: String) throws -> FunctionConfiguration {
        let path = (taskRoot.isEmpty ? "." : taskRoot) + "/function.json"
        let read: [UInt8]?
        do { read = try FileBytes.read(path) } catch { throw ConfigurationError(error.description) }
        guard let bytes = read else { return FunctionConfiguration(values: .object([:])) }
        let values: JSONValue
        do { values = try JSONValue(parsing: bytes) } catch { throw ConfigurationError("\(path): \(error)") }
        guard case .object = values else { throw ConfigurationError("\(path): the document must be a JSON object") }
        return FunctionConfiguration(values: values, path: path)
    }

    /// The value at `section.key` (or top-level `key` when `section` is nil).
    public func value(_ key: String, in section: String? = nil) -> JSONValue? {
        guard let section else { return values[key] }
        return values[section]?[key]
    }

    /// An integer setting ≥ `minimum`, or `fallback` when absent.
    public func integer(_ key: String, in section: String? = nil, default fallback: Int, minimum: Int = 0) throws -> Int
    {
        guard let value = value(key, in: section), value != .null else { return fallback }
        guard let number = value.integer, number >= minimum else {
            throw ConfigurationError("\(name(key, section)) must be an integer ≥ \(minimum), not \(value.typeName)")
        }
        return number
    }

    /// A number setting ≥ `minimum`, or `fallback` when absent.
    public func number(
        _ key: String, in section: String? = nil, default fallback: Double, minimum: Double = 0
    ) throws -> Double {
        guard let value = value(key, in: section), value != .null else { return fallback }
        guard let number = value.number, number >= minimum else {
            throw ConfigurationError("\(name(key, section)) must be a number ≥ \(minimum)")
        }
        return number
    }

    /// A string setting, or `fallback` when absent; `allowed` (when given) lists the accepted values.
    public func string(
        _ key: String, in section: String? = nil, default fallback: String, allowed: [String]? = nil
    ) throws -> String {
        guard let value = value(key, in: section), value != .null else { return fallback }
        guard let text = value.string, allowed.map({ $0.contains(text) }) ?? true else {
            let choices = allowed.map { " (one of: \($0.joined(separator: ", ")))" } ?? ""
            throw ConfigurationError("\(name(key, section)) must be a string\(choices)")
        }
        return text
    }

    /// A boolean setting, or `fallback` when absent.
    public func bool(_ key: String, in section: String? = nil, default fallback: Bool) throws -> Bool {
        guard let value = value(key, in: section), value != .null else { return fallback }
        guard let flag = value.bool else { throw ConfigurationError("\(name(key, section)) must be true or false") }
        return flag
    }

    private func name(_ key: String, _ section: String?) -> String {
        "\(path ?? "function.json"): \(section.map { "\($0)." } ?? "")\(key)"
    }
}
