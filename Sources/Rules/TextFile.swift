//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Reads files a person named (configs, samples, payloads, scripts) and says exactly why one cannot be read —
/// missing, a folder, permission denied, not UTF-8 — instead of Foundation's `NSCocoaErrorDomain` dump.
///
/// Every command and loader reads user files through it, so "cannot read" always comes with the reason.
public enum TextFile {
    /// Why a file could not be read.
    public struct ReadError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What went wrong.
        public enum Reason: Sendable, Hashable {
            /// Nothing exists at the path.
            case missing
            /// The path is a folder.
            case folder
            /// The file exists but this user may not read it.
            case permissionDenied
            /// The bytes are not UTF-8; the offset of the first invalid byte.
            case notUTF8(offset: Int)
            /// Any other failure of the operating system, by its text.
            case other(String)
        }

        /// The path as given.
        public var path: String
        /// What the file is for, e.g. "migration.yaml" or "--payload".
        public var what: String
        /// Why it cannot be read.
        public var reason: Reason

        /// Creates an error.
        public init(path: String, what: String, reason: Reason) {
            self.path = path
            self.what = what
            self.reason = reason
        }

        /// `cannot read <what> '<path>': <reason> — <what to do>`.
        public var description: String {
            let because =
                switch self.reason {
                case .missing: "the file does not exist — check the path (relative paths start at \(FileManager.default.currentDirectoryPath))"
                case .folder: "it is a folder, not a file"
                case .permissionDenied: "permission denied — check the file's owner and mode"
                case .notUTF8(let offset): "it is not UTF-8 text (invalid byte at offset \(offset))"
                case .other(let text): text
                }
            return "cannot read \(self.what) '\(self.path)': \(because)"
        }
    }

    /// Throws why a file cannot be read (missing, a folder, permission denied) without reading it, for a command
    /// that reads a possibly large file as a stream later but should fail before it connects anywhere.
    public static func checkReadable(_ path: String, what: String) throws(ReadError) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ReadError(path: path, what: what, reason: .missing)
        }
        if isFolder.boolValue { throw ReadError(path: path, what: what, reason: .folder) }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ReadError(path: path, what: what, reason: .permissionDenied)
        }
    }

    /// The bytes of a file.
    public static func bytes(_ path: String, what: String) throws(ReadError) -> Data {
        try Self.checkReadable(path, what: what)
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ReadError(path: path, what: what, reason: .other(Self.reason(error)))
        }
    }

    /// The text of a UTF-8 file.
    public static func read(_ path: String, what: String) throws(ReadError) -> String {
        let data = try Self.bytes(path, what: what)
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ReadError(path: path, what: what, reason: .notUTF8(offset: Self.firstInvalidUTF8Offset(data)))
        }
        return text
    }

    /// The offset of the first byte that does not belong to valid UTF-8 (the data's count when there is none).
    public static func firstInvalidUTF8Offset(_ data: Data) -> Int {
        var offset = 0
        var iterator = data.makeIterator()
        var decoder = Unicode.UTF8.ForwardParser()
        while true {
            switch decoder.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .error: return offset
            case .emptyInput: return offset
            }
        }
    }

    /// The operating system's words for a Foundation error (`No such file or directory`), not its dump.
    public static func reason(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError {
            switch cocoa.code {
            case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder (is the folder there?)"
            case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
            case .fileWriteOutOfSpace: return "no space left on the device"
            case .fileWriteVolumeReadOnly: return "the file system is read-only"
            case .fileReadInapplicableStringEncoding, .fileWriteInapplicableStringEncoding: return "not UTF-8 text"
            default: break
            }
        }
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
            let text = String(validatingCString: strerror(Int32(underlying.code)))
        {
            return text
        }
        if nsError.domain == NSPOSIXErrorDomain, let text = String(validatingCString: strerror(Int32(nsError.code))) {
            return text
        }
        return nsError.localizedDescription
    }
}
