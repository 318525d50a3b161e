//! A batch of carnets as the API and `carnet bulk status --json` show it.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::store::{BulkJob, BulkRow, RowStatus};

/// The batch's URL in the API.
pub fn batch_url(base_url: &str, id: Uuid) -> String {
    format!("{base_url}/api/v1/carnet-batches/{id}")
}

/// The batch as the API and `carnet bulk status --json` show it: state, counts (carnets and
/// awards), the carnets in error (position, file, field, reason) and every carnet with its awards
/// issued, already issued and not earned (and why).
pub fn batch_document(base_url: &str, job: &BulkJob, rows: &[BulkRow]) -> Value {
    let c = job.counts;
    let mut not_earned = 0;
    let carnets: Vec<Value> = rows
        .iter()
        .map(|r| {
            let doc = carnet_doc(base_url, r);
            not_earned += doc["awards"].as_array().map_or(0, |a| {
                a.iter().filter(|a| a["outcome"] == "not_earned").count()
            });
            doc
        })
        .collect();
    let errors: Vec<Value> = rows
        .iter()
        .filter(|r| r.status == RowStatus::Error)
        .map(|r| {
            let e = r.error.as_ref();
            json!({
                "position": r.line,
                "file": r.label,
                "field": e.map(|e| e.field.as_str()),
                "reason": e.map(|e| e.reason.as_str()),
            })
        })
        .collect();
    json!({
        "id": job.id,
        "url": batch_url(base_url, job.id),
        "badge_class": (!job.badge_class_slug.is_empty()).then_some(&job.badge_class_slug),
        "state": job.state.as_str(),
        "error": job.error,
        "created_by": job.created_by,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "batch_sha256": job.file_sha256,
        "counts": {
            "carnets": c.total,
            "pending": c.pending(),
            "done": c.issued + c.already,
            "failed": c.failed,
            "awards_issued": job.awards.issued,
            "awards_already": job.awards.already,
            "not_earned": not_earned,
        },
        "errors": errors,
        "carnets": carnets,
    })
}

/// One carnet of the document: where it is, its carnet, its awards.
fn carnet_doc(base_url: &str, r: &BulkRow) -> Value {
    let status = match r.status {
        RowStatus::Pending => "pending",
        RowStatus::Error => "error",
        RowStatus::Issued | RowStatus::Already => "done",
    };
    let mut d = json!({"position": r.line, "file": r.label, "status": status});
    let detail: Value = r
        .detail
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null);
    if let Some(id) = detail["carnet"].as_str() {
        d["carnet_id"] = json!(id);
        d["carnet_url"] = json!(format!("{base_url}/api/v1/carnets/{id}"));
        d["imported"] = detail["imported"].clone();
        d["referentiel"] = detail["referentiel"].clone();
        let awards: Vec<Value> = detail["classes"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|a| {
                        let mut a = a.clone();
                        if let Some(id) = a["award_id"].as_str() {
                            a["award_url"] = json!(format!("{base_url}/api/v1/awards/{id}"));
                        }
                        a
                    })
                    .collect()
            })
            .unwrap_or_default();
        d["awards"] = Value::Array(awards);
    }
    if let Some(e) = &r.error {
        d["field"] = json!(e.field);
        d["reason"] = json!(e.reason);
    }
    d
}
