#if canImport(Glibc)
import Glibc

/// glibc functions that Swift's Glibc module hides behind `_GNU_SOURCE`, looked up at run time
/// with their C calling convention.
enum GNULibc {
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?,
                                                 UnsafePointer<CChar>?) -> Int32
    private typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?,
                                                     Int32) -> Int32

    private static let pipe2Function = symbol("pipe2", as: Pipe2.self)
    private static let addChdirFunction =
        symbol("posix_spawn_file_actions_addchdir_np", as: AddChdir.self)
    private static let addClosefromFunction =
        symbol("posix_spawn_file_actions_addclosefrom_np", as: AddClosefrom.self)

    private static func symbol<F>(_ name: String, as type: F.Type) -> F? {
        guard let address = dlsym(nil, name) else { return nil }
        return unsafeBitCast(address, to: type)
    }

    /// `pipe2(2)`: both ends get `flags` atomically (so no other thread's spawn can inherit
    /// them); without it, `pipe` then `fcntl`. Returns 0 or -1 with `errno` set.
    static func pipe2(_ fds: inout [Int32], _ flags: Int32) -> Int32 {
        if let pipe2Function { return fds.withUnsafeMutableBufferPointer { pipe2Function($0.baseAddress, flags) } }
        guard Glibc.pipe(&fds) == 0 else { return -1 }
        for fd in fds {
            if flags & O_CLOEXEC != 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            if flags & O_NONBLOCK != 0 { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        }
        return 0
    }

    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29): returns 0 or an error number.
    static func addChdir(_ actions: inout posix_spawn_file_actions_t, _ path: String) -> Int32 {
        guard let addChdirFunction else { return ENOSYS }
        return addChdirFunction(&actions, path)
    }

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34); false when unavailable.
    @discardableResult
    static func addClosefrom(_ actions: inout posix_spawn_file_actions_t, _ lowest: Int32) -> Bool {
        guard let addClosefromFunction else { return false }
        return addClosefromFunction(&actions, lowest) == 0
    }
}
#endif
