/// A read-only typed view into memory someone else keeps alive (a mapped model file, or bytes this module built).
///
/// Used so the tokenizer reads its tables straight from a mapped model file with no copy or parse; `owner` holds
/// whatever keeps the memory valid.
struct ArrayView<Element: BitwiseCopyable>: @unchecked Sendable {
    let base: UnsafePointer<Element>?
    let count: Int
    let owner: AnyObject?

    init(base: UnsafePointer<Element>?, count: Int, owner: AnyObject?) {
        self.base = base
        self.count = count
        self.owner = owner
    }

    /// A view that owns a copy of `elements`.
    init(_ elements: [Element]) {
        let box = OwnedBuffer(elements)
        self.init(base: box.pointer, count: elements.count, owner: box)
    }

    @inline(__always)
    subscript(index: Int) -> Element { base.unsafelyUnwrapped[index] }

    /// Index of `value` in this sorted array, by binary search.
    func search(_ value: Element) -> Int? where Element: Comparable {
        var low = 0, high = count - 1
        while low <= high {
            let middle = (low + high) >> 1
            let candidate = self[middle]
            if candidate < value {
                low = middle + 1
            } else if candidate > value {
                high = middle - 1
            } else {
                return middle
            }
        }
        return nil
    }
}

/// Memory this module allocated for an `ArrayView`.
final class OwnedBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    let pointer: UnsafePointer<Element>?
    private let mutable: UnsafeMutablePointer<Element>?

    init(_ elements: [Element]) {
        if elements.isEmpty {
            mutable = nil
        } else {
            let storage = UnsafeMutablePointer<Element>.allocate(capacity: elements.count)
            storage.initialize(from: elements, count: elements.count)
            mutable = storage
        }
        pointer = UnsafePointer(mutable)
    }

    deinit { mutable?.deallocate() }
}
