import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A fresh self-signed certificate for `localhost` and 127.0.0.1, made in the test: the server side of an
/// `https://` upstream, and a client configuration that trusts it (and nothing else).
struct TLSUpstream: Sendable {
    let certificate: NIOSSLCertificate
    let privateKey: NIOSSLPrivateKey

    /// Valid from an hour ago for a day; a P-256 key; SAN DNS `localhost` and IP 127.0.0.1.
    static func selfSigned() throws -> TLSUpstream {
        let key = P256.Signing.PrivateKey()
        let signingKey = Certificate.PrivateKey(key)
        let name = try DistinguishedName {
            OrganizationName("AgentLedger tests")
            CommonName("localhost")
        }
        let now = Date.now
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: signingKey.publicKey,
            notValidBefore: now - 3600, notValidAfter: now + 86_400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: signingKey)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return TLSUpstream(
            certificate: try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der),
            privateKey: try NIOSSLPrivateKey(bytes: Array(key.derRepresentation), format: .der))
    }

    /// For the upstream's server.
    var serverConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(certificate)], privateKey: .privateKey(privateKey))
        // An idle keep-alive client may never answer close_notify; the server would wait 5 s for it when it stops.
        configuration.shutdownTimeout = .milliseconds(200)
        return configuration
    }

    /// Full verification (chain and host name) with this certificate as the only trust root.
    var trustingClientConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([certificate])
        return configuration
    }
}
