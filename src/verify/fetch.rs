//! The one HTTP client the verifier uses to fetch what other issuers publish (hosted assertions,
//! profiles, keys, DID documents, status lists, images) for whoever hands it a badge:
//!
//! - https only (plain http only for explicitly allowed hosts), connect and total timeouts, a
//!   redirect cap, a response size cap, no proxy;
//! - **an address filter** against server-side request forgery: carnet never connects to loopback,
//!   private (RFC 1918), shared (100.64/10), link-local (169.254.169.254, the cloud metadata
//!   service, among them), unique-local (AWS's fd00:ec2::254 among them), multicast, unspecified,
//!   broadcast, documentation, benchmarking or otherwise reserved addresses, nor to their
//!   IPv4-mapped or embedded IPv6 forms, unless an operator allow-lists them
//!   (`--fetch-allow-addresses`). Names are filtered by our own DNS resolver
//!   (`FilteringResolver`): the addresses it returns, and only those, are the ones connected to, so
//!   a name cannot resolve to one address when checked and another when used (no DNS-rebinding
//!   gap). IP-literal hosts never reach a resolver, so they are checked here on the URL as reqwest
//!   parses it (`http://2130706433/`, `http://0x7f.1/`, `http://127.1/` are all 127.0.0.1), before
//!   the request and again on every redirect hop;
//! - a small cache with a time-to-live so that verifying the same badge twice costs no fetch
//!   (JSON documents such as keys and profiles, `get_json`); documents whose answer may change at
//!   any moment (hosted assertions, revocation and status lists) are fetched uncached
//!   (`get_document`).
//!
//! Allowing plain http for a host never lifts the address filter (the tests allow 127.0.0.1
//! explicitly in both). A refused fetch is "could not check" (`indeterminate`), and the report
//! names it.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::Url;
use serde_json::Value;

pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
const CACHE_TTL: Duration = Duration::from_secs(300);
const CACHE_MAX_ENTRIES: usize = 1024;
const MAX_REDIRECTS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not an https address")]
    NotHttps(String),
    #[error("{0} is not a valid web address")]
    InvalidUrl(String),
    /// The address is on a private or local network (or reserved), and not allow-listed.
    #[error("{0}")]
    Refused(RefusedAddress),
    #[error("the site did not answer ({0})")]
    Unreachable(String),
    #[error("the site answered with status {0}")]
    Status(u16),
    #[error("the document is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    #[error("the document is not JSON")]
    NotJson,
}

/// Why an address is not fetched from (see [`classify`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// 0.0.0.0/8, `::`.
    Unspecified,
    /// 127.0.0.0/8, `::1`.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16.
    Private,
    /// 100.64.0.0/10 (carrier-grade NAT).
    Shared,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// Cloud instance metadata services (169.254.169.254, fd00:ec2::254, ...).
    Metadata,
    /// fc00::/7.
    UniqueLocal,
    /// 224/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 198.18/15, 2001:2::/48.
    Benchmarking,
    /// Anything else that is not a public unicast address (240/4, IETF assignments, deprecated or
    /// tunnelling IPv6 ranges, IPv6 outside 2000::/3).
    Reserved,
}

impl FetchError {
    /// The same, in French, for the French half of a report's message; a refused address is not
    /// named (what an internal name resolves to is nobody's business).
    pub fn in_french(&self) -> String {
        match self {
            FetchError::NotHttps(u) => format!("{u} n'est pas une adresse https"),
            FetchError::InvalidUrl(u) => format!("{u} n'est pas une adresse web valable"),
            FetchError::Refused(_) => {
                "l'adresse est sur un réseau privé ou local, où le vérificateur ne va pas".into()
            }
            FetchError::Unreachable(_) => "le site n'a pas répondu".into(),
            FetchError::Status(code) => format!("le site a répondu par le code {code}"),
            FetchError::TooLarge => {
                format!("le document fait plus de {MAX_DOCUMENT_BYTES} octets")
            }
            FetchError::NotJson => "le document n'est pas du JSON".into(),
        }
    }
}

impl AddressKind {
    /// In plain words, for verification reports.
    pub fn describe(self) -> &'static str {
        match self {
            AddressKind::Unspecified => "an unspecified address",
            AddressKind::Loopback => "an address of the verifying machine itself (loopback)",
            AddressKind::Private => "a private network address",
            AddressKind::Shared => "a shared address of an operator's network (carrier-grade NAT)",
            AddressKind::LinkLocal => "a link-local address",
            AddressKind::Metadata => "the address of a cloud metadata service",
            AddressKind::UniqueLocal => "a private network address (IPv6 unique local)",
            AddressKind::Multicast => "a multicast address",
            AddressKind::Broadcast => "the broadcast address",
            AddressKind::Documentation => "an address reserved for documentation",
            AddressKind::Benchmarking => "an address reserved for benchmarks",
            AddressKind::Reserved => "a reserved address",
        }
    }
}

/// A refused address: the IP (for a name, the name too) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedAddress {
    /// The host name that resolved to `ip`; `None` when the URL gave the address itself.
    pub name: Option<String>,
    pub ip: IpAddr,
    pub kind: AddressKind,
}

impl fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (ip, kind) = (self.ip, self.kind.describe());
        match &self.name {
            // which address an internal name resolves to is not said: reports are public
            Some(name) => write!(f, "{name} resolves to {kind}")?,
            None => write!(f, "{ip} is {kind}")?,
        }
        f.write_str(": the verifier does not fetch from private or local networks")
    }
}

/// An IP network (`10.0.0.0/8`, `fd00::/8`) or a single address (`127.0.0.1` = `127.0.0.1/32`),
/// as given to `--fetch-allow-addresses`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    addr: IpAddr,
    prefix: u8,
}

fn mask_v4(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask_v6(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl IpNetwork {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let m = mask_v4(self.prefix);
                u32::from(n) & m == u32::from(a) & m
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let m = mask_v6(self.prefix);
                u128::from(n) & m == u128::from(a) & m
            }
            _ => false,
        }
    }
}

impl FromStr for IpNetwork {
    type Err = String;

    /// `ADDRESS` or `ADDRESS/PREFIX`; the address bits after the prefix must be zero.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = addr
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(addr);
        let addr: IpAddr = addr.parse().map_err(|_| {
            format!(
                "\"{s}\" is not an IP address or network such as 127.0.0.1, 10.0.0.0/8 or fd00::/8 (host names are not accepted)"
            )
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| {
                format!("\"{s}\": the prefix length must be a number from 0 to {max}")
            })?,
        };
        let network = match addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask_v4(prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask_v6(prefix))),
        };
        if network != addr {
            return Err(format!(
                "\"{s}\" has address bits set after the prefix: did you mean {network}/{prefix}?"
            ));
        }
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// IPv4 ranges that are not fetched from, most specific first.
const REFUSED_V4: &[([u8; 4], u8, AddressKind)] = &[
    ([169, 254, 169, 254], 32, AddressKind::Metadata), // AWS, Azure, GCP, OpenStack...
    ([169, 254, 170, 2], 32, AddressKind::Metadata),   // AWS ECS task metadata
    ([100, 100, 100, 200], 32, AddressKind::Metadata), // Alibaba Cloud
    ([192, 0, 0, 192], 32, AddressKind::Metadata),     // Oracle Cloud
    ([0, 0, 0, 0], 8, AddressKind::Unspecified),
    ([10, 0, 0, 0], 8, AddressKind::Private),
    ([100, 64, 0, 0], 10, AddressKind::Shared),
    ([127, 0, 0, 0], 8, AddressKind::Loopback),
    ([169, 254, 0, 0], 16, AddressKind::LinkLocal),
    ([172, 16, 0, 0], 12, AddressKind::Private),
    ([192, 0, 0, 0], 24, AddressKind::Reserved), // IETF protocol assignments
    ([192, 0, 2, 0], 24, AddressKind::Documentation),
    ([192, 88, 99, 0], 24, AddressKind::Reserved), // 6to4 relay anycast (deprecated)
    ([192, 168, 0, 0], 16, AddressKind::Private),
    ([198, 18, 0, 0], 15, AddressKind::Benchmarking),
    ([198, 51, 100, 0], 24, AddressKind::Documentation),
    ([203, 0, 113, 0], 24, AddressKind::Documentation),
    ([224, 0, 0, 0], 4, AddressKind::Multicast),
    ([255, 255, 255, 255], 32, AddressKind::Broadcast),
    ([240, 0, 0, 0], 4, AddressKind::Reserved),
];

/// IPv6 ranges that are not fetched from, most specific first (after the embedded-IPv4 forms, and
/// before the catch-all: everything outside 2000::/3 is refused).
const REFUSED_V6: &[(u128, u8, AddressKind)] = &[
    (v6(0, 0, 0, 0), 128, AddressKind::Unspecified), // ::
    (v6(0, 0, 0, 1), 128, AddressKind::Loopback),    // ::1
    (v6(0xfd00, 0x0ec2, 0, 0x0254), 128, AddressKind::Metadata), // AWS
    (v6(0x2001, 0, 0, 0), 32, AddressKind::Reserved), // Teredo tunnels
    (v6(0x2001, 0x0002, 0, 0), 48, AddressKind::Benchmarking),
    (v6(0x2001, 0x0db8, 0, 0), 32, AddressKind::Documentation),
    (v6(0x3fff, 0, 0, 0), 20, AddressKind::Documentation),
    (v6(0xfc00, 0, 0, 0), 7, AddressKind::UniqueLocal),
    (v6(0xfe80, 0, 0, 0), 10, AddressKind::LinkLocal),
    (v6(0xff00, 0, 0, 0), 8, AddressKind::Multicast),
];

/// `first:second::before_last:last` as bits (the groups between are zero), to keep the table
/// readable.
const fn v6(first: u16, second: u16, before_last: u16, last: u16) -> u128 {
    Ipv6Addr::new(first, second, 0, 0, 0, 0, before_last, last).to_bits()
}

/// Why `ip` is not fetched from, or `None` for a public unicast address. IPv6 forms that carry an
/// IPv4 address to which a connection would go (IPv4-mapped `::ffff:a.b.c.d`, NAT64
/// `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`) are judged as that IPv4 address.
pub fn classify(ip: IpAddr) -> Option<AddressKind> {
    match ip {
        IpAddr::V4(a) => classify_v4(a),
        IpAddr::V6(a) => classify_v6(a),
    }
}

fn classify_v4(a: Ipv4Addr) -> Option<AddressKind> {
    let bits = u32::from(a);
    REFUSED_V4
        .iter()
        .find(|(net, prefix, _)| {
            let m = mask_v4(*prefix);
            bits & m == u32::from_be_bytes(*net) & m
        })
        .map(|(_, _, kind)| *kind)
}

fn classify_v6(a: Ipv6Addr) -> Option<AddressKind> {
    if let Some(v4) = a.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let bits = u128::from(a);
    let within = |net: u128, prefix: u8| bits & mask_v6(prefix) == net & mask_v6(prefix);
    if within(v6(0x0064, 0xff9b, 0, 0), 96) {
        return classify_v4(Ipv4Addr::from(bits as u32));
    }
    if within(v6(0x2002, 0, 0, 0), 16) {
        return classify_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    if let Some((_, _, kind)) = REFUSED_V6.iter().find(|(net, p, _)| within(*net, *p)) {
        return Some(*kind);
    }
    // Global unicast is 2000::/3; everything else (IPv4-compatible ::a.b.c.d, discard-only,
    // site-local, unassigned) is reserved.
    (!within(v6(0x2000, 0, 0, 0), 3)).then_some(AddressKind::Reserved)
}

/// The address filter: `Ok` if `ip` may be connected to, i.e. it is public or allow-listed (an
/// IPv4-mapped IPv6 address is allowed when its IPv4 address is).
pub fn check_address(ip: IpAddr, allow: &[IpNetwork]) -> Result<(), AddressKind> {
    let canonical = ip.to_canonical();
    if allow
        .iter()
        .any(|n| n.contains(ip) || n.contains(canonical))
    {
        return Ok(());
    }
    match classify(ip) {
        Some(kind) => Err(kind),
        None => Ok(()),
    }
}

/// Keeps the resolved addresses of `name` that may be connected to; refuses the name when none
/// is left.
pub fn filter_resolved(
    name: &str,
    addrs: impl IntoIterator<Item = SocketAddr>,
    allow: &[IpNetwork],
) -> Result<Vec<SocketAddr>, FetchError> {
    let mut refused = None;
    let kept: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| match check_address(a.ip(), allow) {
            Ok(()) => true,
            Err(kind) => {
                refused.get_or_insert(RefusedAddress {
                    name: Some(name.to_string()),
                    ip: a.ip(),
                    kind,
                });
                false
            }
        })
        .collect();
    match (kept.is_empty(), refused) {
        (false, _) => Ok(kept),
        (true, Some(r)) => Err(FetchError::Refused(r)),
        (true, None) => Err(FetchError::Unreachable(format!("{name} has no address"))),
    }
}

/// The DNS resolver of the verifier's client: the system resolver, then the address filter. The
/// client connects only to the addresses returned here.
#[derive(Debug, Clone)]
struct FilteringResolver {
    allow: Arc<[IpNetwork]>,
}

impl reqwest::dns::Resolve for FilteringResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = Arc::clone(&self.allow);
        let name = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map_err(|e| FetchError::Unreachable(format!("{name} could not be found: {e}")))?;
            let kept = filter_resolved(&name, found, &allow)?;
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// What the verifier may fetch besides public https addresses.
#[derive(Debug, Clone, Default)]
pub struct FetchPolicy {
    /// Hosts that may be fetched over plain http (tests).
    pub allow_http: Vec<String>,
    /// Addresses and networks that may be connected to although private, local or reserved.
    pub allow_addresses: Vec<IpNetwork>,
}

fn bare_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

impl FetchPolicy {
    pub fn http_allowed(&self, host: &str) -> bool {
        let host = bare_host(host);
        self.allow_http
            .iter()
            .any(|h| bare_host(h).eq_ignore_ascii_case(host))
    }

    /// Checks a URL as it will be requested (first request and every redirect): an IP-literal host
    /// against the address filter (names are filtered when resolved), then the scheme.
    pub fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        let host = url
            .host_str()
            .ok_or_else(|| FetchError::InvalidUrl(url.to_string()))?;
        // The same test hyper makes to skip DNS: the host, brackets removed, parses as an address.
        // `Url` has already normalised `2130706433`, `0x7f.1`, `127.1`... to 127.0.0.1.
        if let Ok(ip) = bare_host(host).parse::<IpAddr>() {
            check_address(ip, &self.allow_addresses).map_err(|kind| {
                FetchError::Refused(RefusedAddress {
                    name: None,
                    ip,
                    kind,
                })
            })?;
        }
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.http_allowed(host) => Ok(()),
            _ => Err(FetchError::NotHttps(url.to_string())),
        }
    }
}

/// A fetched document, whatever its status.
#[derive(Debug, Clone)]
pub struct Document {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<FetchPolicy>,
    cache: Mutex<HashMap<String, (Instant, Value)>>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The host of an http(s) URL, without port or credentials.
pub fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next();
    }
    Some(authority.split(':').next().unwrap_or(authority))
}

/// The fetch error behind a reqwest error: ours when the redirect policy or the resolver refused,
/// else "did not answer".
fn fetch_error(e: reqwest::Error) -> FetchError {
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if let Some(ours) = s.downcast_ref::<FetchError>() {
            return ours.clone();
        }
        source = s.source();
    }
    FetchError::Unreachable(e.without_url().to_string())
}

impl Fetcher {
    pub fn new(policy: FetchPolicy) -> Self {
        let policy = Arc::new(policy);
        let for_redirects = Arc::clone(&policy);
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(FetchError::Unreachable(format!(
                    "more than {MAX_REDIRECTS} redirects"
                )));
            }
            match for_redirects.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        });
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(8))
            .redirect(redirects)
            .no_proxy()
            .dns_resolver(FilteringResolver {
                allow: policy.allow_addresses.clone().into(),
            })
            .user_agent(concat!(
                "carnet/",
                env!("CARGO_PKG_VERSION"),
                " (Open Badges verifier)"
            ))
            .build()
            .expect("the HTTP client builds");
        Self {
            client,
            policy,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn http_allowed(&self, host: &str) -> bool {
        self.policy.http_allowed(host)
    }

    /// Parses and checks a URL before any request (and before the cache: a refused address never
    /// answers from it).
    fn checked_url(&self, url: &str) -> Result<Url, FetchError> {
        let parsed = Url::parse(url).map_err(|_| FetchError::InvalidUrl(url.to_string()))?;
        self.policy.check_url(&parsed)?;
        Ok(parsed)
    }

    /// GET a document without the cache, whatever its status and type (for documents whose answer
    /// may change at any moment: hosted assertions, revocation and status lists). The body is
    /// bounded like every fetch.
    pub async fn get_document(&self, url: &str, accept: &str) -> Result<Document, FetchError> {
        let url = self.checked_url(url)?;
        let mut resp = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(fetch_error)?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if resp
            .content_length()
            .is_some_and(|l| l as usize > MAX_DOCUMENT_BYTES)
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(fetch_error)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Document {
            status,
            content_type,
            body,
        })
    }

    /// GET a JSON document (cached for a few minutes).
    pub async fn get_json(&self, url: &str, accept: &str) -> Result<Value, FetchError> {
        self.checked_url(url)?;
        if let Some((at, v)) = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(url)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(v.clone());
        }
        let doc = self.get_document(url, accept).await?;
        if !(200..300).contains(&doc.status) {
            return Err(FetchError::Status(doc.status));
        }
        let value: Value = serde_json::from_slice(&doc.body).map_err(|_| FetchError::NotJson)?;
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_MAX_ENTRIES {
            cache.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            if cache.len() >= CACHE_MAX_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(url.to_string(), (Instant::now(), value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> IpNetwork {
        s.parse().unwrap()
    }

    fn allowing(addresses: &[&str]) -> FetchPolicy {
        FetchPolicy {
            allow_http: vec![],
            allow_addresses: addresses.iter().map(|a| net(a)).collect(),
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(host_of("http://127.0.0.1:8080/x"), Some("127.0.0.1"));
        assert_eq!(host_of("https://u:p@example.org/x"), Some("example.org"));
        assert_eq!(host_of("https://[::1]:8/x"), Some("::1"));
    }

    #[test]
    fn refused_ranges() {
        use AddressKind::*;
        for (addr, kind) in [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("100.64.0.1", Shared),
            ("100.127.255.254", Shared),
            ("100.100.100.200", Metadata),
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("169.254.169.254", Metadata),
            ("169.254.170.2", Metadata),
            ("169.254.1.1", LinkLocal),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.0.0.192", Metadata),
            ("192.0.0.8", Reserved),
            ("192.0.2.7", Documentation),
            ("192.88.99.1", Reserved),
            ("192.168.1.1", Private),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("198.51.100.1", Documentation),
            ("203.0.113.1", Documentation),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Broadcast),
            ("::", Unspecified),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:7f00:1", Loopback),
            ("::ffff:10.1.2.3", Private),
            ("::ffff:169.254.169.254", Metadata),
            ("::ffff:0.0.0.0", Unspecified),
            ("::127.0.0.1", Reserved), // IPv4-compatible (deprecated)
            ("::0.0.0.2", Reserved),
            ("64:ff9b::127.0.0.1", Loopback),
            ("64:ff9b::a9fe:a9fe", Metadata),
            ("64:ff9b:1::1", Reserved),
            ("2002:7f00:1::", Loopback),
            ("2002:c0a8:101::1", Private),
            ("100::1", Reserved),
            ("2001::1", Reserved),
            ("2001:2::1", Benchmarking),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("fc00::1", UniqueLocal),
            ("fd12:3456::1", UniqueLocal),
            ("fd00:ec2::254", Metadata),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fec0::1", Reserved),
            ("ff02::1", Multicast),
            ("4000::1", Reserved),
        ] {
            assert_eq!(classify(ip(addr)), Some(kind), "{addr}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.169.0.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4007:80e::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:4860:4860::8888",
        ] {
            assert_eq!(classify(ip(addr)), None, "{addr}");
            assert_eq!(check_address(ip(addr), &[]), Ok(()), "{addr}");
        }
    }

    #[test]
    fn allow_list() {
        let allow = [net("127.0.0.1"), net("10.0.0.0/8"), net("fd00::/8")];
        for ok in [
            "127.0.0.1",
            "::ffff:127.0.0.1",
            "10.1.2.3",
            "::ffff:10.9.9.9",
            "fd00:ec2::254",
        ] {
            assert_eq!(check_address(ip(ok), &allow), Ok(()), "{ok}");
        }
        for refused in [
            "127.0.0.2",
            "::1",
            "172.16.0.1",
            "169.254.169.254",
            "fc00::1",
        ] {
            assert!(check_address(ip(refused), &allow).is_err(), "{refused}");
        }
        assert!(check_address(ip("1.2.3.4"), &[net("0.0.0.0/0")]).is_ok());
        assert!(check_address(ip("::1"), &[net("::/0")]).is_ok());
    }

    #[test]
    fn networks_parse_strictly() {
        assert_eq!(net("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(net(" 127.0.0.1 ").to_string(), "127.0.0.1/32");
        assert_eq!(net("[::1]").to_string(), "::1/128");
        assert_eq!(net("fd00::/8").to_string(), "fd00::/8");
        for bad in [
            "localhost",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/x",
            "127.1",
            "2130706433",
            "",
        ] {
            assert!(bad.parse::<IpNetwork>().is_err(), "{bad}");
        }
        let e = "10.0.0.1/8".parse::<IpNetwork>().unwrap_err();
        assert!(e.contains("10.0.0.0/8"), "{e}");
    }

    #[test]
    fn odd_spellings_of_local_addresses_are_normalised_then_refused() {
        let policy = FetchPolicy {
            allow_http: vec!["127.0.0.1".into(), "::1".into()],
            allow_addresses: vec![],
        };
        for (url, expect) in [
            ("http://2130706433/", "127.0.0.1"),
            ("http://0x7f000001/", "127.0.0.1"),
            ("http://0x7f.1/", "127.0.0.1"),
            ("http://0177.0.0.1/", "127.0.0.1"),
            ("http://127.1/", "127.0.0.1"),
            ("http://127.0.1/", "127.0.0.1"),
            ("https://0/", "0.0.0.0"),
            ("https://0.0.0.0/", "0.0.0.0"),
            ("https://[::1]/", "::1"),
            ("https://[0:0:0:0:0:0:0:1]/", "::1"),
            ("https://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
            ("https://[::ffff:7f00:1]/", "::ffff:127.0.0.1"),
            (
                "https://169.254.169.254/latest/meta-data/",
                "169.254.169.254",
            ),
            ("https://0xa9fea9fe/", "169.254.169.254"),
            ("https://[fd00:ec2::254]/", "fd00:ec2::254"),
            ("https://10.0.0.1./", "10.0.0.1"),
            ("https://%31%30.0.0.1/", "10.0.0.1"),
        ] {
            let parsed = Url::parse(url).unwrap();
            match policy.check_url(&parsed) {
                Err(FetchError::Refused(r)) => {
                    assert_eq!(r.ip, ip(expect), "{url}");
                    assert_eq!(r.name, None);
                }
                other => panic!("{url}: {other:?}"),
            }
        }
        // Plain names are left to the resolver; public literals pass.
        assert!(
            policy
                .check_url(&Url::parse("https://example.org/").unwrap())
                .is_ok()
        );
        assert!(
            policy
                .check_url(&Url::parse("https://93.184.215.14/").unwrap())
                .is_ok()
        );
    }

    #[test]
    fn resolved_addresses_are_filtered() {
        let sa = |s: &str| SocketAddr::new(ip(s), 0);
        let e = filter_resolved("localhost", [sa("127.0.0.1"), sa("::1")], &[]).unwrap_err();
        let FetchError::Refused(r) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(r.name.as_deref(), Some("localhost"));
        assert_eq!(r.ip, ip("127.0.0.1"));
        assert_eq!(
            e.to_string(),
            "localhost resolves to an address of the verifying machine itself \
             (loopback): the verifier does not fetch from private or local networks"
        );
        // A name that resolves to public and private addresses: only the public ones are kept.
        assert_eq!(
            filter_resolved("mixed.example", [sa("10.0.0.1"), sa("8.8.8.8")], &[]).unwrap(),
            vec![sa("8.8.8.8")]
        );
        assert_eq!(
            filter_resolved(
                "localhost",
                [sa("127.0.0.1"), sa("::1")],
                &[net("127.0.0.1")]
            )
            .unwrap(),
            vec![sa("127.0.0.1")]
        );
        assert!(matches!(
            filter_resolved("nothing.example", [], &[]),
            Err(FetchError::Unreachable(_))
        ));
    }

    #[test]
    fn messages_are_plain() {
        let e = FetchError::Refused(RefusedAddress {
            name: None,
            ip: ip("169.254.169.254"),
            kind: AddressKind::Metadata,
        });
        assert_eq!(
            e.to_string(),
            "169.254.169.254 is the address of a cloud metadata service: the verifier does not \
             fetch from private or local networks"
        );
    }

    /// A panic while the cache is held (anywhere) does not poison every later verification.
    #[tokio::test]
    async fn the_key_cache_survives_a_panic_while_it_is_held() {
        let f = Arc::new(Fetcher::new(allowing(&["127.0.0.1"])));
        let held = f.clone();
        let _ = std::thread::spawn(move || {
            let _guard = held.cache.lock().unwrap_or_else(PoisonError::into_inner);
            panic!("a panic while the cache is held");
        })
        .join();
        assert!(f.cache.is_poisoned());
        f.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                "https://example.org/k".into(),
                (Instant::now(), Value::Null),
            );
        assert_eq!(
            f.get_json("https://example.org/k", "application/json")
                .await
                .unwrap(),
            Value::Null
        );
    }

    #[tokio::test]
    async fn plain_http_is_refused_unless_allowed() {
        let f = Fetcher::new(allowing(&["127.0.0.1"]));
        assert!(matches!(
            f.get_json("http://127.0.0.1:1/x", "application/json").await,
            Err(FetchError::NotHttps(_))
        ));
        let f = Fetcher::new(FetchPolicy {
            allow_http: vec!["127.0.0.1".into()],
            allow_addresses: vec![net("127.0.0.1")],
        });
        assert!(matches!(
            f.get_json("http://127.0.0.1:1/x", "application/json").await,
            Err(FetchError::Unreachable(_))
        ));
    }

    #[tokio::test]
    async fn local_addresses_are_refused_before_any_connection() {
        let f = Fetcher::new(FetchPolicy::default());
        for url in [
            "https://127.0.0.1:1/x",
            "https://10.0.0.1/x",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/",
            "https://localhost:1/x",
        ] {
            let got = tokio::time::timeout(
                Duration::from_secs(2),
                f.get_document(url, "application/json"),
            )
            .await
            .expect("refused at once, not timed out");
            assert!(matches!(got, Err(FetchError::Refused(_))), "{url}: {got:?}");
        }
        assert!(matches!(
            f.get_document("not a url", "application/json").await,
            Err(FetchError::InvalidUrl(_))
        ));
    }
}
