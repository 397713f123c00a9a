import Foundation
import NIOConcurrencyHelpers

@testable import SocketIO

/// An application's hooks for the library's tests, with no application names: a credential
/// `key-<user>` names the user (from `Authorization: Bearer` or the auth payload's `token`); the
/// connection hook refuses the users in ``refusedAtAdmit``, puts the others in `room-<user>`, and
/// once connected sends `welcome` with `{"userId", "socketId"}`.
final class TestHooks: SocketIOServerHooks {
    static let missing = SocketIOClientError(code: "NO_CREDENTIALS", message: "A key is required")
    static let wrong = SocketIOClientError(code: "BAD_CREDENTIALS", message: "Unknown key")
    static let banned = SocketIOClientError(code: "BANNED", message: "Not admitted")

    let refusedAtAdmit: Set<String>
    /// What the hooks saw, in order: `authenticate <user>`, `admit <user>`, `connected <user>`.
    let calls = NIOLockedValueBox<[String]>([])

    init(refusedAtAdmit: Set<String> = []) {
        self.refusedAtAdmit = refusedAtAdmit
    }

    static func token(userID: String = "665f1c2e9b1d4a0012345678") -> String { "key-\(userID)" }
    static func room(_ userID: String) -> String { "room-\(userID)" }

    func authenticate(_ handshake: SocketIOHandshake, now: Date) throws(SocketIOClientError) -> SocketIOIdentity {
        var credential = handshake.auth?["token"]?.stringValue
        if let header = handshake.authorization, header.hasPrefix("Bearer ") {
            credential = String(header.dropFirst("Bearer ".count))
        }
        guard let credential else { throw Self.missing }
        guard credential.hasPrefix("key-"), credential.count > 4 else { throw Self.wrong }
        let userID = String(credential.dropFirst(4))
        self.calls.withLockedValue { $0.append("authenticate \(userID)") }
        return SocketIOIdentity(userID: userID, credential: credential)
    }

    func admit(_ socket: SocketIOSocket, on server: SocketIOServer) async -> SocketIOClientError? {
        guard let userID = socket.userID else { return Self.wrong }
        self.calls.withLockedValue { $0.append("admit \(userID)") }
        if self.refusedAtAdmit.contains(userID) { return Self.banned }
        server.join(socket, room: Self.room(userID))
        return nil
    }

    func connected(_ socket: SocketIOSocket, on server: SocketIOServer) async {
        guard let userID = socket.userID else { return }
        self.calls.withLockedValue { $0.append("connected \(userID)") }
        await socket.emit("welcome", [.object(["userId": .string(userID), "socketId": .string(socket.id)])])
    }
}
