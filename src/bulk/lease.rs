//! One node at a time runs a bulk job (issue #13 §7): several `carnet serve` processes may share
//! one PostgreSQL database (or one SQLite file). The node that runs a job holds its lease in the
//! database ([`crate::store::Store::take_job_lease`]), renews it while the job runs and gives it
//! back when it stops. A node that dies stops renewing: once the lease has expired, another
//! node's sweep ([`super::resume_unfinished`], every third of a lease) takes the job over and
//! resumes it where it stood; rows are issued under per-row idempotency keys, so none twice.
//!
//! The lease is two columns of the job (migration 0012: `lease_holder`, `lease_until`), its
//! length `CARNET_JOB_LEASE_SECONDS` (30 by default), renewed every third of it.
//! `tests/integration/two_nodes.rs` kills the node running a job and watches another finish it.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use super::BulkError;
use crate::app::App;

/// This process, as a lease holder: host, process id and a random part (a restarted process
/// with the same pid is another holder).
pub fn node() -> &'static str {
    static NODE: OnceLock<String> = OnceLock::new();
    NODE.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".to_owned());
        let random = Uuid::new_v4().simple().to_string();
        format!("{host}:{}:{}", std::process::id(), &random[..8])
    })
}

/// A lease this process holds on a job.
pub struct Lease<'a> {
    app: &'a App,
    job: Uuid,
    length: Duration,
}

impl<'a> Lease<'a> {
    /// Takes the job's lease, or `None` when another node holds it.
    pub async fn take(app: &'a App, job: Uuid) -> Result<Option<Lease<'a>>, BulkError> {
        let length = app.config.job_lease;
        let now = Utc::now();
        let taken = app
            .store
            .take_job_lease(job, node(), now, now + length)
            .await?;
        Ok(taken.then_some(Lease { app, job, length }))
    }

    /// Runs `work` while renewing the lease every third of its length; if the lease is lost
    /// (this node was too slow to renew and another took the job over), `work` is dropped:
    /// what it stored stays stored, a transaction in flight rolls back.
    pub async fn hold_while<T>(
        &self,
        work: impl Future<Output = Result<T, BulkError>>,
    ) -> Result<T, BulkError> {
        tokio::select! {
            outcome = work => outcome,
            () = self.renew_until_lost() => Err(BulkError::LeaseLost(self.job)),
        }
    }

    async fn renew_until_lost(&self) {
        let mut held_until = Utc::now() + self.length;
        loop {
            tokio::time::sleep(self.length / 3).await;
            let until = Utc::now() + self.length;
            match self
                .app
                .store
                .renew_job_lease(self.job, node(), until)
                .await
            {
                Ok(true) => held_until = until,
                Ok(false) => return,
                // the database is away: go on while the lease may still be ours
                Err(e) if Utc::now() < held_until => {
                    tracing::warn!(bulk.job = %self.job, "the lease of bulk job {} could not be renewed: {e}", self.job);
                }
                Err(_) => return,
            }
        }
    }

    /// Gives the lease back, so that the job can be resumed at once (by this node or another).
    pub async fn release(self) {
        if let Err(e) = self.app.store.release_job_lease(self.job, node()).await {
            tracing::warn!(bulk.job = %self.job, "the lease of bulk job {} could not be given back (it expires by itself): {e}", self.job);
        }
    }
}
