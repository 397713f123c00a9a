import Crypto

/// Compares a secret a client sent (an admin or console token, a session MAC) with the expected one
/// in time that depends on neither's content nor length: both are hashed with SHA-256 first, then
/// every byte of the digests is compared.
public enum SecretComparison {
    /// Whether `candidate` equals `secret`.
    public static func equals(_ candidate: some Sequence<UInt8>, _ secret: some Sequence<UInt8>) -> Bool {
        let left = Array(SHA256.hash(data: Array(candidate)))
        let right = Array(SHA256.hash(data: Array(secret)))
        var difference: UInt8 = 0
        for (leftByte, rightByte) in zip(left, right) {
            difference |= leftByte ^ rightByte
        }
        return difference == 0
    }
}
