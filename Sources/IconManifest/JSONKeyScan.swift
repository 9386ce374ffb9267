/// Finds duplicate keys in JSON text, which `JSONDecoder` and `JSONSerialization` silently
/// resolve (Foundation keeps the first value, Python's `json` the last), so a manifest with
/// them can mean one thing to us and another to the original.
///
/// A single pass over the bytes with an explicit stack of open objects and arrays (nesting
/// is capped at ``maxDepth``), reading RFC 8259 JSON exactly: strings must be UTF-8 and have
/// every escape decoded (`\uXXXX` with surrogate pairs, unpaired ones refused), so `"a"` and
/// `"\u0061"` are the same key, as they are to both decoders. Keys are compared as Swift
/// strings, which treats as equal at least every pair Python treats as equal.
enum JSONKeyScan {
    /// What a scan found.
    enum Outcome: Equatable {
        /// Valid JSON, no object with a key twice.
        case clean
        /// The first repeated key and where its object is, e.g. `images[0]`, empty for the
        /// top-level value.
        case duplicate(key: String, path: String)
        /// Not strict JSON; the phrase says where.
        case invalid(String)
    }

    /// Deeper nesting than this is refused; manifests nest three levels.
    static let maxDepth = 256

    /// Scans `bytes` (UTF-8 JSON text, an optional byte order mark first).
    static func scan(_ bytes: some Collection<UInt8>) -> Outcome {
        var scanner = Scanner(bytes: Array(bytes))
        return scanner.run()
    }

    /// Why a duplicate key is refused, after ``describe(key:path:)``.
    static let ambiguity = " (Python's json takes the last value, Foundation the first, so the text means different things to different readers)"

    /// One line for a refusal: `duplicate key "inner" in the top-level object` or
    /// `duplicate key "hash" in images[0]`.
    static func describe(key: String, path: String) -> String {
        "duplicate key \(PythonJSON.quote(key)) in \(path.isEmpty ? "the top-level object" : path)"
    }

    private struct Scanner {
        enum Frame {
            /// An object: its keys so far and the key whose value is being read.
            case object(keys: Set<String>, current: String?)
            case array(index: Int)
        }

        let bytes: [UInt8]
        var position = 0
        var stack: [Frame] = []

        init(bytes: [UInt8]) {
            self.bytes = bytes
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        }

        mutating func run() -> Outcome {
            do {
                try value()
                while true {
                    skipWhitespace()
                    if stack.isEmpty { break }
                    try continueContainer()
                }
                guard position == bytes.count else { throw Failure.invalid("text after the JSON value at byte \(position)") }
                return .clean
            } catch Failure.duplicate(let key, let path) {
                return .duplicate(key: key, path: path)
            } catch Failure.invalid(let reason) {
                return .invalid(reason)
            } catch {
                return .invalid("it does not parse")
            }
        }

        enum Failure: Error {
            case duplicate(String, String)
            case invalid(String)
        }

        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
        }

        func unexpected(_ what: String) -> Failure {
            guard let byte = peek else { return .invalid("the text ends where \(what) belongs") }
            return .invalid("unexpected \(Self.show(byte)) at byte \(position) where \(what) belongs")
        }

        static func show(_ byte: UInt8) -> String {
            (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        }

        /// Reads one value; an object or array is opened (pushed) and read by ``continueContainer()``.
        mutating func value() throws {
            skipWhitespace()
            guard let byte = peek else { throw unexpected("a value") }
            switch byte {
            case UInt8(ascii: "{"):
                position += 1
                try push(.object(keys: [], current: nil))
                skipWhitespace()
                if peek == UInt8(ascii: "}") {
                    position += 1
                    pop()
                } else {
                    try key()
                }
            case UInt8(ascii: "["):
                position += 1
                try push(.array(index: 0))
                skipWhitespace()
                if peek == UInt8(ascii: "]") {
                    position += 1
                    pop()
                } else {
                    try value()
                }
            case UInt8(ascii: "\""):
                _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw unexpected("a value")
            }
        }

        /// After a value inside the innermost container: a comma and the next member, or the end.
        mutating func continueContainer() throws {
            guard let frame = stack.last else { return }
            switch frame {
            case .object:
                if peek == UInt8(ascii: ",") {
                    position += 1
                    skipWhitespace()
                    try key()
                } else if peek == UInt8(ascii: "}") {
                    position += 1
                    pop()
                } else {
                    throw unexpected("',' or '}'")
                }
            case .array(let index):
                if peek == UInt8(ascii: ",") {
                    position += 1
                    stack[stack.count - 1] = .array(index: index + 1)
                    try value()
                } else if peek == UInt8(ascii: "]") {
                    position += 1
                    pop()
                } else {
                    throw unexpected("',' or ']'")
                }
            }
        }

        /// Reads `"key":` and the value after it, refusing a key the object already has.
        mutating func key() throws {
            guard peek == UInt8(ascii: "\"") else { throw unexpected("a key") }
            let name = try string()
            guard case .object(var keys, _) = stack.last else { throw Failure.invalid("internal: key outside an object") }
            guard keys.insert(name).inserted else { throw Failure.duplicate(name, path()) }
            stack[stack.count - 1] = .object(keys: keys, current: name)
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw unexpected("':'") }
            position += 1
            try value()
        }

        mutating func push(_ frame: Frame) throws {
            guard stack.count < JSONKeyScan.maxDepth else {
                throw Failure.invalid("it nests deeper than \(JSONKeyScan.maxDepth) levels")
            }
            stack.append(frame)
        }

        mutating func pop() { stack.removeLast() }

        /// Where the innermost object is: `images[0]`; empty for the top level.
        func path() -> String {
            var text = ""
            for frame in stack.dropLast() {
                switch frame {
                case .object(_, let current): text += text.isEmpty ? (current ?? "") : ".\(current ?? "")"
                case .array(let index): text += "[\(index)]"
                }
            }
            return text
        }

        mutating func literal(_ word: StaticString) throws {
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard bytes.count - position >= expected.count, bytes[position..<(position + expected.count)].elementsEqual(expected) else {
                throw unexpected("a value")
            }
            position += expected.count
        }

        mutating func number() throws {
            if peek == UInt8(ascii: "-") { position += 1 }
            guard let first = peek, isDigit(first) else { throw unexpected("a digit") }
            position += 1
            if first != UInt8(ascii: "0") { skipDigits() }
            if peek == UInt8(ascii: ".") {
                position += 1
                guard let byte = peek, isDigit(byte) else { throw unexpected("a digit") }
                skipDigits()
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                position += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
                guard let byte = peek, isDigit(byte) else { throw unexpected("a digit") }
                skipDigits()
            }
        }

        func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

        mutating func skipDigits() {
            while let byte = peek, isDigit(byte) { position += 1 }
        }

        /// Reads a string literal (at its opening quote) and returns its decoded text.
        mutating func string() throws -> String {
            position += 1
            var units: [UInt16] = []
            var start = position
            func flush(_ end: Int) throws {
                guard end > start else { return }
                guard let text = String(validating: bytes[start..<end], as: UTF8.self) else {
                    throw Failure.invalid("a string at byte \(start) is not valid UTF-8")
                }
                units += text.utf16
            }
            while true {
                guard let byte = peek else { throw Failure.invalid("a string that starts before byte \(start) is not closed") }
                switch byte {
                case UInt8(ascii: "\""):
                    try flush(position)
                    position += 1
                    // Escapes must pair surrogates, as Foundation requires (Python does not).
                    guard let text = String(validating: units, as: UTF16.self) else {
                        throw Failure.invalid("a string before byte \(position) has an unpaired \\u surrogate escape")
                    }
                    return text
                case UInt8(ascii: "\\"):
                    try flush(position)
                    position += 1
                    units.append(try escape())
                    start = position
                case 0x00..<0x20:
                    throw Failure.invalid("a control character (byte 0x\(String(byte, radix: 16))) in a string at byte \(position)")
                default:
                    position += 1
                }
            }
        }

        /// The code unit of the escape after a backslash.
        mutating func escape() throws -> UInt16 {
            guard let byte = peek else { throw unexpected("an escape") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""): return 0x22
            case UInt8(ascii: "\\"): return 0x5C
            case UInt8(ascii: "/"): return 0x2F
            case UInt8(ascii: "b"): return 0x08
            case UInt8(ascii: "f"): return 0x0C
            case UInt8(ascii: "n"): return 0x0A
            case UInt8(ascii: "r"): return 0x0D
            case UInt8(ascii: "t"): return 0x09
            case UInt8(ascii: "u"):
                var value: UInt16 = 0
                for _ in 0..<4 {
                    guard let digit = peek.flatMap(Self.hexValue) else { throw unexpected("a hex digit") }
                    value = value << 4 | UInt16(digit)
                    position += 1
                }
                return value
            default:
                position -= 1
                throw unexpected("an escape")
            }
        }

        static func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            case 0x61...0x66: byte - 0x61 + 10
            default: nil
            }
        }
    }
}
