//! The endorsements a credential embeds (OB 3.0 verification step 6, CHECKLIST §8: "verify each
//! embedded endorsement with the EndorsementCredential algorithm"): for each entry of
//! `endorsement[]` (on the credential and on its achievement), its data model, its Data
//! Integrity proof (the key resolved like any issuer's: carnet's own endorsers without a fetch,
//! did:web, did:key, https), that the key belongs to the endorsement's issuer, its dates, and
//! that it is about this badge. One check `endorsement` per endorsement, at `endorsement[i]`.
//!
//! What a failure means: the endorsement is part of the signed badge, so the issuer vouches for
//! it. An endorsement whose proof fails, whose key is not its issuer's, that is not yet valid or
//! that is about another badge makes the check `fail`: showing a forged recommendation as
//! verified would mislead the employer who reads it. An endorsement carnet could not check (its
//! key could not be fetched, an unknown context) or whose validity ended is a warning: the badge
//! itself was checked, and the report says which recommendation was not. Under the strict
//! profile a failed endorsement makes the badge `invalid`; under the default one
//! (`Report::judged`) the endorsement checks do not decide the verdict, and a failed one is shown
//! as not verified on that endorsement (the badge's own signature covers it).
//!
//! The report's summary lists each endorsement with `path` (= its check's path), `issuer_id`,
//! `issuer_description` and `valid_from`, for the pages.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Verifier;
use super::checks::conformance_checks;
use super::report::{Check, Status, check_id as id};
use crate::proof::data_integrity;

/// Endorsements checked per badge at most (each may need a key fetched).
const MAX_ENDORSEMENTS: usize = 20;

/// The embedded endorsements (objects) with their JSON path.
fn embedded(cred: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for (path, list) in [
        ("endorsement", cred.get("endorsement")),
        (
            "credentialSubject.achievement.endorsement",
            cred.pointer("/credentialSubject/achievement/endorsement"),
        ),
    ] {
        let items: &[Value] = match list {
            Some(Value::Array(a)) => a,
            Some(one) => std::slice::from_ref(one),
            None => &[],
        };
        for (i, e) in items.iter().enumerate().filter(|(_, e)| e.is_object()) {
            out.push((format!("{path}[{i}]"), e));
        }
    }
    out
}

fn who(e: &Value) -> String {
    super::report::text_of(e.pointer("/issuer/name"))
        .or_else(|| super::checks::issuer_id(e).map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// What an endorsement may be about when embedded in this credential: the credential, its
/// achievement, or its issuer (as in the 1EdTech samples).
fn endorsable_ids(cred: &Value, path: &str) -> Vec<String> {
    let s = |p: &str| cred.pointer(p).and_then(Value::as_str).map(str::to_owned);
    let mut ids = vec![s("/credentialSubject/achievement/id")];
    if !path.starts_with("credentialSubject.") {
        ids.push(s("/id"));
        ids.push(super::checks::issuer_id(cred).map(str::to_owned));
    }
    ids.into_iter().flatten().collect()
}

fn date(e: &Value, key: &str) -> Option<Result<DateTime<Utc>, ()>> {
    let v = e.get(key)?;
    Some(
        v.as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or(()),
    )
}

impl Verifier {
    /// [`Verifier::endorsement_checks`], unless the checks `so_far` found that the badge itself
    /// cannot be read as JSON-LD (too large, too complex, not valid): its endorsements are then
    /// not worth any work (the costliest input of `carnet bench --hostile`, 200 endorsements on a
    /// badge too large to canonicalise, spent most of its time on them), and one check says they
    /// were not checked. A badge whose signature merely fails still has each endorsement checked,
    /// so that the report shows which one was forged.
    pub(super) async fn endorsement_checks_after(
        &self,
        cred: &Value,
        so_far: &[Check],
    ) -> Vec<Check> {
        let unreadable = so_far
            .iter()
            .any(|c| c.status == Status::Fail && c.id == id::JSONLD);
        if !unreadable {
            return self.endorsement_checks(cred).await;
        }
        if embedded(cred).is_empty() {
            return Vec::new();
        }
        vec![Check::unknown(
            id::ENDORSEMENT,
            "Les recommandations du badge n'ont pas été vérifiées : le badge lui-même ne peut pas être lu.",
            "The badge's endorsements were not checked: the badge itself cannot be read.",
        )]
    }

    /// One `endorsement` check per embedded endorsement (none when the badge has none).
    async fn endorsement_checks(&self, cred: &Value) -> Vec<Check> {
        let mut checks = Vec::new();
        let all = embedded(cred);
        for (path, e) in all.iter().take(MAX_ENDORSEMENTS) {
            checks.push(self.endorsement_check(cred, path, e).await.at(path.clone()));
        }
        if all.len() > MAX_ENDORSEMENTS {
            checks.push(Check::warn(
                id::ENDORSEMENT,
                format!(
                    "Le badge a {} recommandations : seules les {MAX_ENDORSEMENTS} premières ont été vérifiées.",
                    all.len()
                ),
                format!(
                    "The badge has {} endorsements: only the first {MAX_ENDORSEMENTS} were checked.",
                    all.len()
                ),
            ));
        }
        if let Some(jwts) = cred.get("endorsementJwt").and_then(Value::as_array)
            && !jwts.is_empty()
        {
            checks.push(Check::warn(
                id::ENDORSEMENT,
                "Le badge contient des recommandations au format JWT : carnet ne les vérifie pas encore.",
                "The badge contains endorsements as JWTs: carnet does not verify them yet.",
            ).at("endorsementJwt"));
        }
        checks
    }

    async fn endorsement_check(&self, cred: &Value, path: &str, e: &Value) -> Check {
        let who = who(e);
        let mut e = e.clone();
        // an embedded endorsement may rely on the badge's contexts
        if e.get("@context").is_none()
            && let Some(ctx) = cred.get("@context")
        {
            e["@context"] = ctx.clone();
        }
        let mut sub = Vec::new();
        conformance_checks(&e, &mut sub);
        let proofs: Vec<Value> = data_integrity::proofs(&e).into_iter().cloned().collect();
        if proofs.is_empty() {
            return fail(
                &who,
                "elle n'a pas de signature.",
                "it has no signature (proof).",
            );
        }
        let mut best: Option<Vec<Check>> = None;
        for proof in &proofs {
            let outcome = self.check_proof(&e, proof).await;
            let ok = outcome
                .iter()
                .all(|c| matches!(c.status, Status::Pass | Status::Warn));
            if ok || best.is_none() {
                best = Some(outcome);
            }
            if ok {
                break;
            }
        }
        sub.extend(best.unwrap_or_default());
        let now = Utc::now();
        match date(&e, "validFrom") {
            Some(Ok(from)) if from > now => sub.push(Check::fail(
                id::VALID_FROM,
                format!(
                    "elle ne sera valable qu'à partir du {}.",
                    from.format("%d/%m/%Y")
                ),
                format!("it is not valid before {}.", from.format("%Y-%m-%d")),
            )),
            Some(Err(())) => sub.push(Check::fail(
                id::VALID_FROM,
                "sa date de début est illisible.",
                "its start date cannot be read.",
            )),
            _ => {}
        }
        match date(&e, "validUntil") {
            Some(Ok(until)) if until < now => sub.push(Check::warn(
                id::VALID_UNTIL,
                format!(
                    "elle n'est plus valable depuis le {}.",
                    until.format("%d/%m/%Y")
                ),
                format!("it is no longer valid since {}.", until.format("%Y-%m-%d")),
            )),
            Some(Err(())) => sub.push(Check::fail(
                id::VALID_UNTIL,
                "sa date de fin est illisible.",
                "its end date cannot be read.",
            )),
            _ => {}
        }
        let about = e
            .pointer("/credentialSubject/id")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !about.is_empty() && !endorsable_ids(cred, path).iter().any(|i| i == about) {
            sub.push(Check::fail(
                id::ENDORSEMENT,
                format!("elle parle d'autre chose que ce badge ({about})."),
                format!("it is about something else than this badge ({about})."),
            ));
        }
        summarise(&who, &sub)
    }
}

fn fail(who: &str, fr: &str, en: &str) -> Check {
    Check::fail(
        id::ENDORSEMENT,
        format!("La recommandation de {who} n'est pas valide : {fr}"),
        format!("The endorsement by {who} is not valid: {en}"),
    )
}

/// A sub-check's message as the detail of the endorsement's check, for the proof's usual
/// failure in words about a recommendation.
fn detail(c: &Check) -> (String, String) {
    if c.id == id::PROOF && c.message.en.starts_with("The signature does not match") {
        return (
            "sa signature ne correspond pas à son texte : elle a été modifiée après sa signature, ou signée avec une autre clé.".to_owned(),
            "its signature does not match its text: it was changed after it was signed, or signed with another key.".to_owned(),
        );
    }
    (c.message.fr.clone(), c.message.en.clone())
}

/// One check from an endorsement's sub-checks: any failure fails it; "could not check" and
/// warnings make it a warning; otherwise it passes.
fn summarise(who: &str, sub: &[Check]) -> Check {
    if let Some(c) = sub.iter().find(|c| c.status == Status::Fail) {
        let (fr, en) = detail(c);
        return fail(who, &fr, &en);
    }
    if let Some(c) = sub
        .iter()
        .find(|c| c.status == Status::Unknown)
        .or_else(|| sub.iter().find(|c| c.status == Status::Warn))
    {
        let (fr, en) = detail(c);
        return Check::warn(
            id::ENDORSEMENT,
            format!("La recommandation de {who} n'a pas pu être entièrement vérifiée : {fr}"),
            format!("The endorsement by {who} could not be fully checked: {en}"),
        );
    }
    Check::pass(
        id::ENDORSEMENT,
        format!("La recommandation de {who} est authentique : sa signature est valide."),
        format!("The endorsement by {who} is authentic: its signature is valid."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endorsements_are_found_on_the_credential_and_its_achievement() {
        let cred = json!({
            "id": "https://b/c/1",
            "issuer": {"id": "https://b/i"},
            "endorsement": [{"a": 1}, "https://not-an-object"],
            "credentialSubject": {"achievement": {"id": "https://b/a", "endorsement": {"b": 2}}},
        });
        let paths: Vec<String> = embedded(&cred).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "endorsement[0]",
                "credentialSubject.achievement.endorsement[0]"
            ]
        );
        assert_eq!(
            endorsable_ids(&cred, "endorsement[0]"),
            ["https://b/a", "https://b/c/1", "https://b/i"]
        );
        assert_eq!(
            endorsable_ids(&cred, "credentialSubject.achievement.endorsement[0]"),
            ["https://b/a"]
        );
    }

    #[test]
    fn the_worst_sub_check_decides() {
        let pass = Check::pass(id::PROOF, "ok", "ok");
        let warn = Check::warn(id::KEY, "clé", "key");
        let unknown = Check::unknown(id::KEY, "?", "?");
        let fail = Check::fail(
            id::PROOF,
            "non",
            "The signature does not match: the badge was changed",
        );
        assert_eq!(
            summarise("A", std::slice::from_ref(&pass)).status,
            Status::Pass
        );
        assert_eq!(
            summarise("A", &[pass.clone(), unknown]).status,
            Status::Warn
        );
        assert_eq!(summarise("A", &[pass.clone(), warn]).status, Status::Warn);
        let failed = summarise("A", &[pass, fail]);
        assert_eq!(failed.status, Status::Fail);
        assert!(
            failed.message.fr.contains("modifiée"),
            "{}",
            failed.message.fr
        );
    }
}
