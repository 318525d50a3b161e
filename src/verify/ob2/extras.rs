//! What an OB 2.0 badge may carry beyond the award itself: endorsements (CHECKLIST §1 Endorsement;
//! validator-core validates each one, and a withdrawn endorsement does not disrupt the badge) and
//! extensions (validator-core `VALIDATE_EXTENSION_NODE`, which needs the extension's JSON schema:
//! carnet knows none, so an extension is reported as not checked).

use serde_json::Value;

use super::classes::Class;
use super::graph::{Node, Run};
use super::values::{list_of, ref_id};
use super::verification::scope_check;
use super::{ENDORSEMENT, EXTENSION};
use crate::verify::report::{Check, Status};

/// Checks the endorsements of each node (`endorsement` on the assertion, badge class, issuer).
/// Problems are warnings; one pass check says how many were checked.
pub async fn endorsement_checks(run: &mut Run<'_>, nodes: &[(&Node, &str)]) {
    let mut count = 0;
    let mut problems = false;
    for (node, path) in nodes {
        let refs: Vec<Value> = list_of(node.get("endorsement"))
            .into_iter()
            .cloned()
            .collect();
        for (i, reference) in refs.iter().enumerate() {
            count += 1;
            let at = format!("{path}endorsement[{i}]");
            let before = run_warnings(run);
            run.soft = true;
            endorsement(run, reference, node.id(), &at).await;
            run.soft = false;
            problems |= run_warnings(run) > before;
        }
    }
    if count > 0 && !problems {
        run.push(Check::pass(
            ENDORSEMENT,
            format!("Approbations vérifiées : {count}."),
            format!("Endorsements checked: {count}."),
        ));
    }
}

fn run_warnings(run: &Run<'_>) -> usize {
    run.count(ENDORSEMENT, Status::Warn)
}

async fn endorsement(run: &mut Run<'_>, reference: &Value, endorsed: Option<&str>, at: &str) {
    let node = match run.node(reference, Class::Endorsement, at).await {
        Ok(n) => n,
        Err(check) => return run.push(check),
    };
    run.validate(&node, Class::Endorsement, at);
    let claimed = node
        .get("claim")
        .and_then(|c| c.get("id"))
        .and_then(Value::as_str);
    if let (Some(claimed), Some(endorsed)) = (claimed, endorsed)
        && claimed != endorsed
    {
        run.push(
            Check::warn(
                ENDORSEMENT,
                format!("L'approbation porte sur {claimed}, pas sur {endorsed}."),
                format!("The endorsement is about {claimed}, not {endorsed}."),
            )
            .at(format!("{at}.claim.id")),
        );
    }
    let Some(issuer_ref) = node.get("issuer").cloned() else {
        return;
    };
    let issuer_path = format!("{at}.issuer");
    match run.node(&issuer_ref, Class::Profile, &issuer_path).await {
        Ok(issuer) => {
            run.validate(&issuer, Class::Profile, &issuer_path);
            if let Some(id) = node.id().filter(|_| node.url.is_some()) {
                run.push(scope_check(id, &issuer.value).at(at));
            }
        }
        Err(check) => run.push(check),
    }
}

/// One warning per extension node (an object whose `type` includes `Extension`) found in `nodes`.
pub fn extension_checks(run: &mut Run<'_>, nodes: &[(&Node, &str)]) {
    for (node, path) in nodes {
        let mut found = Vec::new();
        find_extensions(&node.value, path.trim_end_matches('.'), &mut found);
        for (at, types) in found {
            run.push(
                Check::warn(
                    EXTENSION,
                    format!("L'extension {types} n'a pas été vérifiée : carnet ne connaît pas son schéma."),
                    format!("The extension {types} was not checked: carnet does not know its schema."),
                )
                .at(at),
            );
        }
    }
}

fn find_extensions(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            let types: Vec<&str> = list_of(o.get("type"))
                .into_iter()
                .filter_map(Value::as_str)
                .collect();
            if types.contains(&"Extension") {
                let named: Vec<&str> = types.into_iter().filter(|t| *t != "Extension").collect();
                out.push((path.to_string(), named.join(", ")));
                return;
            }
            for (k, child) in o {
                if k != "@context" {
                    let at = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    find_extensions(child, &at, out);
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                find_extensions(child, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Ids of a node's references, for messages and summaries.
pub fn first_ref(v: Option<&Value>) -> Option<String> {
    list_of(v).into_iter().find_map(ref_id).map(str::to_string)
}
