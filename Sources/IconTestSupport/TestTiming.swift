import Foundation

/// Deadlines of tests that wait on real work (QEMU boots, image builds, loopback servers), scaled
/// for slow or busy machines.
///
/// `ICON_TEST_SLOWDOWN` (a factor of at least 1, default 1) multiplies every such deadline: a
/// shared 2-core machine with other work running needs about 2-3. The deadlines themselves are
/// generous for a quiet machine; they exist to end a hung boot, not to measure speed.
public enum TestTiming {
    /// The factor from `ICON_TEST_SLOWDOWN`; 1 when unset or not a number of at least 1.
    public static let slowdown: Double = factor(ProcessInfo.processInfo.environment["ICON_TEST_SLOWDOWN"])

    /// Parses a slowdown factor; 1 for anything that is not a finite number of at least 1.
    public static func factor(_ text: String?) -> Double {
        guard let text, let value = Double(text), value.isFinite, value >= 1 else { return 1 }
        return value
    }

    /// `seconds` scaled by the slowdown, rounded up.
    public static func seconds(_ seconds: Int) -> Int {
        Int((Double(seconds) * slowdown).rounded(.up))
    }

    /// `minutes` scaled by the slowdown, rounded up (for `.timeLimit(.minutes(...))`).
    public static func minutes(_ minutes: Int) -> Int {
        Int((Double(minutes) * slowdown).rounded(.up))
    }

    /// `duration` scaled by the slowdown.
    public static func duration(_ duration: Duration) -> Duration {
        duration * slowdown
    }
}
