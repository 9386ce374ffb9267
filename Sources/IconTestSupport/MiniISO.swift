public import Foundation

/// Writes a minimal ISO 9660 file: 16 empty system sectors, a primary volume descriptor with
/// the volume id, a set terminator, then `payloadSize` bytes of pseudo-random data so images
/// differ and have some size.
public enum MiniISO {
    /// Writes the image to `path`.
    public static func write(to path: String, volumeID: String, payloadSize: Int = 64 * 1024, seed: UInt64 = 1) throws {
        try bytes(volumeID: volumeID, payloadSize: payloadSize, seed: seed).write(to: URL(fileURLWithPath: path))
    }

    /// The image's bytes.
    public static func bytes(volumeID: String, payloadSize: Int = 64 * 1024, seed: UInt64 = 1) -> Data {
        let sector = 2048
        var bytes = [UInt8](repeating: 0, count: 16 * sector)
        var pvd = [UInt8](repeating: 0, count: sector)
        pvd[0] = 1
        pvd.replaceSubrange(1...5, with: Array("CD001".utf8))
        pvd[6] = 1
        var id = Array(volumeID.utf8.prefix(32))
        id += [UInt8](repeating: 0x20, count: 32 - id.count)
        pvd.replaceSubrange(40..<72, with: id)
        var terminator = [UInt8](repeating: 0, count: sector)
        terminator[0] = 255
        terminator.replaceSubrange(1...5, with: Array("CD001".utf8))
        terminator[6] = 1
        bytes += pvd + terminator
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        bytes.reserveCapacity(bytes.count + payloadSize)
        for _ in 0..<payloadSize {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes.append(UInt8(truncatingIfNeeded: state))
        }
        return Data(bytes)
    }
}
