import Foundation
import NIOCore
import NIOSSL

/// TLS on the ingest link (docs/operations.md, "TLS on the ingest link"): the collector presents a certificate and
/// may require one from each sidecar; the sidecar verifies the collector's certificate and may present its own.
///
/// Both ends load PEM files once at start-up, so a missing or unreadable file is one configuration error naming it,
/// never a failed handshake later.
package enum LinkTLS {
    /// A TLS file that cannot be used, with the file's role and path.
    package struct FileError: Error, CustomStringConvertible {
        package var description: String
    }

    /// The collector's context: `certificateChain` and `privateKey` (PEM) identify it; with `clientCA`, every sidecar
    /// must present a certificate issued by one of that file's CAs.
    package static func serverContext(
        certificateChain: String, privateKey: String, clientCA: String?
    ) throws(FileError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try certificates(at: certificateChain).map { .certificate($0) },
            privateKey: .privateKey(try key(at: privateKey)))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCA {
            configuration.trustRoots = .certificates(try certificates(at: clientCA))
            // Sidecars are identified by their certificate's issuer (and their token), not by a host name.
            configuration.certificateVerification = .noHostnameVerification
        }
        return try context(configuration)
    }

    /// The sidecar's context: the collector's certificate is verified against `trustRoots` (PEM CA bundle) or, when
    /// nil, the system's roots; `certificateChain` and `privateKey` are presented when the collector asks for them.
    package static func clientContext(
        trustRoots: String?, certificateChain: String?, privateKey: String?
    ) throws(FileError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let trustRoots { configuration.trustRoots = .certificates(try certificates(at: trustRoots)) }
        switch (certificateChain, privateKey) {
        case (let chain?, let keyPath?):
            configuration.certificateChain = try certificates(at: chain).map { .certificate($0) }
            configuration.privateKey = .privateKey(try key(at: keyPath))
        case (nil, nil):
            break
        default:
            throw FileError(description: "a client certificate needs both its certificate chain and its private key")
        }
        return try context(configuration)
    }

    /// A collector's context toward another replica of the same certificate (`AGENTLEDGER_INGEST_TLS_CERT`): a
    /// follower forwarding ADMITs to the enforcer. It shows that certificate when asked for a client certificate, and
    /// accepts the peer only if it presents the same leaf (`pinned`): both hold the replicas' one key.
    package static func replicaClientContext(
        certificateChain: String, privateKey: String
    ) throws(FileError) -> (context: NIOSSLContext, pinned: NIOSSLCertificate) {
        let chain = try certificates(at: certificateChain)
        guard let leaf = chain.first else { throw FileError(description: "\(certificateChain) holds no certificate") }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateChain = chain.map { .certificate($0) }
        configuration.privateKey = .privateKey(try key(at: privateKey))
        return (try context(configuration), leaf)
    }

    /// The context of `up`'s own sidecar, which reaches the collector in the same process over loopback: encrypted
    /// like any link, without verifying the certificate (the process trusts itself; there is no one in between).
    package static func loopbackClientContext() throws(FileError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return try context(configuration)
    }

    /// The server name the sidecar sends and verifies: `host`, unless it is an IP address (SNI carries names only,
    /// and NIOSSL then checks the certificate's IP addresses against the peer's).
    package static func serverName(for host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }

    private static func certificates(at path: String) throws(FileError) -> [NIOSSLCertificate] {
        let bytes = try read(path)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw FileError(description: "\(path) holds no readable PEM certificate (\(error))")
        }
        guard !certificates.isEmpty else { throw FileError(description: "\(path) holds no PEM certificate") }
        return certificates
    }

    private static func key(at path: String) throws(FileError) -> NIOSSLPrivateKey {
        let bytes = try read(path)
        do {
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem)
        } catch {
            throw FileError(description: "\(path) holds no readable PEM private key (\(error))")
        }
    }

    /// Certificates and keys are a few kilobytes; a larger file is not one.
    private static let maxFileBytes = 1 << 20

    private static func read(_ path: String) throws(FileError) -> [UInt8] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw FileError(description: "cannot read \(path): \((error as NSError).localizedDescription)")
        }
        guard data.count <= maxFileBytes else { throw FileError(description: "\(path) is larger than 1 MiB") }
        return [UInt8](data)
    }

    private static func context(_ configuration: TLSConfiguration) throws(FileError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw FileError(description: "the certificate and key cannot be used together (\(error))")
        }
    }
}
