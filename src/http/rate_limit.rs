//! Rate limiting per client address for the public verifier (page and endpoint): each address may
//! make `per_minute` verifications a minute on average, with bursts of `burst`. Beyond that it gets
//! `429 Too Many Requests` with `Retry-After`, as a problem document for the API and a plain page
//! for browsers.
//!
//! The algorithm is GCRA (a virtual-scheduling token bucket): one timestamp per address. IPv6
//! addresses are grouped by /64 (one home or host usually has a whole /64, so counting single
//! addresses would let one client rotate through billions). Behind a reverse proxy, list the
//! proxy's addresses in `trusted_proxies`: the client address is then taken from the rightmost
//! `X-Forwarded-For` entry that is not a trusted proxy.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppError;

/// Addresses tracked at most; beyond that, entries whose budget is whole again are dropped.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug)]
pub struct RateLimiter {
    /// Time one request "costs"; `None` when limiting is off.
    interval: Option<Duration>,
    /// How far ahead of now an address's schedule may run (burst - 1 intervals).
    tolerance: Duration,
    trusted_proxies: Vec<IpAddr>,
    schedule: Mutex<HashMap<IpAddr, Instant>>,
}

impl RateLimiter {
    /// `per_minute == 0` turns limiting off.
    pub fn new(per_minute: u32, burst: u32, trusted_proxies: Vec<IpAddr>) -> Self {
        let interval = (per_minute > 0).then(|| Duration::from_secs(60) / per_minute.max(1));
        let tolerance = interval.unwrap_or_default() * burst.max(1).saturating_sub(1);
        Self {
            interval,
            tolerance,
            trusted_proxies,
            schedule: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request from `client`; `Err(wait)` when over the limit.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let Some(interval) = self.interval else {
            return Ok(());
        };
        let key = bucket_key(client);
        let mut schedule = self.schedule.lock().unwrap_or_else(|p| p.into_inner());
        if schedule.len() >= MAX_TRACKED && !schedule.contains_key(&key) {
            schedule.retain(|_, tat| *tat > now);
        }
        let tat = schedule.get(&key).copied().unwrap_or(now).max(now);
        if tat > now + self.tolerance {
            return Err(tat - (now + self.tolerance));
        }
        schedule.insert(key, tat + interval);
        Ok(())
    }

    /// The client address: the peer, or behind trusted proxies the rightmost untrusted
    /// `X-Forwarded-For` entry.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|a| !self.trusted_proxies.contains(a))
                .unwrap_or(peer),
        )
    }
}

/// The address a client is counted under: IPv4 as is, IPv6 by its /64.
pub(super) fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// Middleware: counts the request against its client's budget.
pub async fn limit(
    State(limiter): State<Arc<RateLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    // Without a peer address (in-process tests) every request shares one budget.
    let client = limiter
        .client(peer, request.headers())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    match limiter.check(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => too_many(wait),
    }
}

/// `429` with `Retry-After`; a browser gets it as a page in its language (`error_page`).
fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs() + 1;
    let mut resp = AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many verifications from your address: try again in {seconds} s"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_burst_then_refuses_until_the_budget_refills() {
        let l = RateLimiter::new(60, 3, vec![]);
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check(ip, t0).is_ok());
        }
        let wait = l.check(ip, t0).unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        // Another address has its own budget.
        assert!(l.check("203.0.113.8".parse().unwrap(), t0).is_ok());
        // One interval later, one more request passes.
        assert!(l.check(ip, t0 + Duration::from_secs(1)).is_ok());
        assert!(l.check(ip, t0 + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn ipv6_addresses_share_their_64_and_zero_turns_limiting_off() {
        let l = RateLimiter::new(60, 1, vec![]);
        let t0 = Instant::now();
        assert!(l.check("2001:db8:1:2::1".parse().unwrap(), t0).is_ok());
        assert!(l.check("2001:db8:1:2::ffff".parse().unwrap(), t0).is_err());
        assert!(l.check("2001:db8:1:3::1".parse().unwrap(), t0).is_ok());
        let off = RateLimiter::new(0, 1, vec![]);
        for _ in 0..1000 {
            assert!(off.check("203.0.113.7".parse().unwrap(), t0).is_ok());
        }
    }

    #[test]
    fn forwarded_for_is_read_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let l = RateLimiter::new(60, 1, vec![proxy]);
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "198.51.100.1, 203.0.113.9, 10.0.0.2".parse().unwrap(),
        );
        assert_eq!(
            l.client(Some(proxy), &h),
            Some("203.0.113.9".parse().unwrap())
        );
        // A direct client cannot choose its address with the header.
        let direct: IpAddr = "192.0.2.5".parse().unwrap();
        assert_eq!(l.client(Some(direct), &h), Some(direct));
    }
}
