//! `escache serve --tls`: HTTPS as Elasticsearch 8+ serves it by default. A CA and one node
//! certificate (for `localhost`, the loopback addresses and the listening host) are made at start,
//! as Elasticsearch's auto-configuration makes `http_ca.crt` and `http.p12`
//! (`x-pack/plugin/security/cli/.../AutoConfigureNode.java`); the CA's SHA-256 fingerprint is what
//! clients pin (`ssl_assert_fingerprint`), so the chain served holds the CA too.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use sha2::{Digest, Sha256};
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// A TLS setup made at start: what the listeners accept with, and what clients are given.
pub(super) struct Tls {
    pub acceptor: TlsAcceptor,
    /// The CA certificate, PEM (Elasticsearch's `http_ca.crt`).
    pub ca_pem: String,
    /// SHA-256 of the CA certificate (DER), lower-case hex, as Elasticsearch prints it at first start.
    pub ca_fingerprint: String,
}

fn cert_error(e: rcgen::Error) -> io::Error {
    io::Error::other(format!("cannot make the TLS certificates: {e}"))
}

pub(super) fn generate(host: IpAddr) -> io::Result<Tls> {
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "escache serve HTTP CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(cert_error)?)
        .map_err(cert_error)?;

    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    if !names.contains(&host.to_string()) {
        names.push(host.to_string());
    }
    // rcgen makes an IP address SAN of each name that parses as one.
    let mut node = CertificateParams::new(names).map_err(cert_error)?;
    node.distinguished_name
        .push(DnType::CommonName, "escache serve node");
    node.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    node.use_authority_key_identifier_extension = true;
    let node_key = KeyPair::generate().map_err(cert_error)?;
    let node_cert = node.signed_by(&node_key, &ca).map_err(cert_error)?;

    let chain = vec![node_cert.der().clone(), ca.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(node_key.serialize_der()));
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let ca_fingerprint =
        Sha256::digest(ca.der().as_ref())
            .iter()
            .fold(String::with_capacity(64), |mut hex, b| {
                hex.push_str(&format!("{b:02x}"));
                hex
            });
    Ok(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_pem: ca.pem(),
        ca_fingerprint,
    })
}
