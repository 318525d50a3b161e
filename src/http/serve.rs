//! The accept loop: one task per connection, HTTP/1.1 by hyper with a header read timeout (a
//! client that sends its request line and headers slowly — Slowloris — is cut off; `axum::serve`
//! installs no timer, so hyper's own timeout never fires), the peer address given to handlers
//! (`ConnectInfo`, for the verifier's rate limit), a cap on the connections open at once from one
//! address (IPv6 by /64; trusted reverse proxies exempt), and a graceful stop: on `shutdown`, no
//! new connection is accepted, idle ones close, requests under way finish.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

/// How long a client may take to send a request's line and headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

pub use crate::config::MAX_CONNECTIONS_PER_ADDRESS;

/// What the accept loop enforces.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub header_read_timeout: Duration,
    /// 0: no cap.
    pub max_connections_per_address: usize,
    /// Reverse proxies, whose connections carry many clients: never capped.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_connections_per_address: MAX_CONNECTIONS_PER_ADDRESS,
            trusted_proxies: vec![],
        }
    }
}

/// Serves until `shutdown` resolves, then waits for the requests under way.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, ServeOptions::default()).await
}

/// Open connections per client address; a [`Slot`] gives its place back when dropped.
#[derive(Default)]
struct Open(Mutex<HashMap<IpAddr, usize>>);

struct Slot(Arc<Open>, IpAddr);

impl Open {
    fn take(self: &Arc<Self>, key: IpAddr, max: usize) -> Option<Slot> {
        let mut open = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(key).or_default();
        if max > 0 && *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot(self.clone(), key))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = (self.0).0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.1);
            }
        }
    }
}

/// [`serve`] with other limits.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    let header_read_timeout = options.header_read_timeout;
    let open = Arc::new(Open::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // a connection that failed before it was accepted (reset, no more descriptors):
                // the next one may succeed
                Err(e) => {
                    tracing::debug!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let slot = if options.trusted_proxies.contains(&peer.ip()) {
            None
        } else {
            let key = super::rate_limit::bucket_key(peer.ip());
            match open.take(key, options.max_connections_per_address) {
                Some(slot) => Some(slot),
                // over the cap: closed at once, before anything is read
                None => {
                    tracing::debug!("connection from {peer} refused: too many open");
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut req: axum::extract::Request| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            });
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let _slot = slot;
            let hyper_service = TowerToHyperService::new(service.map_request(
                |req: hyper::Request<hyper::body::Incoming>| req.map(axum::body::Body::new),
            ));
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let conn = builder
                .serve_connection(TokioIo::new(stream), hyper_service)
                .with_upgrades();
            tokio::pin!(conn);
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!("connection from {peer}: {e}");
                        }
                        break;
                    }
                    _ = stop.changed() => conn.as_mut().graceful_shutdown(),
                }
            }
        });
        // forget the connections that ended
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}
