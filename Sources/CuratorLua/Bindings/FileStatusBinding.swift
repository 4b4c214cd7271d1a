import CuratorCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `curator.stat`: what is at a path, for scripts that check where they will
/// write before writing (Lua's io library cannot tell a folder from a file,
/// and shelling out to `test -d` needs a shell and quoting).
enum FileStatusBinding {
    static func install(host: CuratorHost) {
        host.state.defineFunction(
            "curator.stat",
            signature: "curator.stat(path) -> {kind=\"file\"|\"folder\"|\"link\"|\"other\", size=, entries=} | nil, message",
            summary: "What is at path, without following a final symlink (a dangling one is a \"link\"): its kind, size in bytes, and for a folder how many entries it holds; nil and why when nothing is there or it cannot be read"
        ) { call in
            let path = try call.string(1)
            let lua = call.lua
            var info = stat()
            guard lstat(path, &info) == 0 else {
                let code = errno
                lua.pushNil()
                lua.push("\(path): \(String(cString: strerror(code)))")
                return 2
            }
            let kind: String
            switch info.st_mode & S_IFMT {
            case S_IFREG: kind = "file"
            case S_IFDIR: kind = "folder"
            case S_IFLNK:
                // A link to a folder is a folder to anyone writing into it.
                var target = stat()
                kind = stat(path, &target) == 0 && target.st_mode & S_IFMT == S_IFDIR ? "folder" : "link"
            default: kind = "other"
            }
            var entries: Int?
            if kind == "folder" {
                guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
                    lua.pushNil()
                    lua.push("\(path): cannot list the folder (permission denied?)")
                    return 2
                }
                entries = names.count
            }
            lua.newTable(record: 3)
            lua.push(kind); lua.rawSet(-2, "kind")
            lua.push(Int(info.st_size)); lua.rawSet(-2, "size")
            if let entries { lua.push(entries); lua.rawSet(-2, "entries") }
            return 1
        }
    }
}
