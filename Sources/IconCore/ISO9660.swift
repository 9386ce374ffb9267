import Foundation

/// Reads the fields Iconograph needs from an ISO 9660 image, without mounting it.
public enum ISO9660 {
    /// Bytes per logical sector; the volume descriptors start at sector 16.
    static let sectorSize = 2048
    static let firstDescriptorSector = 16

    /// The volume identifier of the primary volume descriptor, trailing spaces removed.
    ///
    /// - Throws: `IconError.Code.io` when the file cannot be read or is not a regular file,
    ///   `.malformed` when it
    ///   holds no primary volume descriptor.
    public static func volumeID(atPath path: String) throws -> String {
        // Only a regular file: a FIFO named <digits>.iso would block the open.
        let handle = FileHandle(fileDescriptor: try RegularFile.openForReading(path), closeOnDealloc: true)
        defer { try? handle.close() }
        // Descriptors follow one another until the set terminator (type 255).
        for index in 0..<32 {
            let offset = UInt64((firstDescriptorSector + index) * sectorSize)
            let sector: Data
            do {
                try handle.seek(toOffset: offset)
                sector = try handle.read(upToCount: sectorSize) ?? Data()
            } catch {
                throw IconError(.io, "cannot read ISO image \(path)", cause: error)
            }
            guard sector.count == sectorSize else { break }
            let bytes = [UInt8](sector)
            guard bytes[1...5] == [0x43, 0x44, 0x30, 0x30, 0x31][...] else { break }  // "CD001"
            if bytes[0] == 255 { break }
            if bytes[0] == 1 {
                return parseVolumeIdentifier(bytes[40..<72])
            }
        }
        throw IconError(.malformed, "\(path) is not an ISO 9660 image (no primary volume descriptor)")
    }

    static func parseVolumeIdentifier(_ field: ArraySlice<UInt8>) -> String {
        var end = field.endIndex
        while end > field.startIndex, field[end - 1] == 0x20 || field[end - 1] == 0 {
            end -= 1
        }
        return String(decoding: field[field.startIndex..<end], as: UTF8.self)
    }
}
