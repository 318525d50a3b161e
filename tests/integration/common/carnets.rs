//! Référentiels, classes and API calls shared by the carnet tests (`carnet_awards`, `carnet_batch`).

use std::path::Path;

use super::server::*;

pub const RECTEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/referentiels/rectec.json");
pub const RECTEC_CLASS: &str = "organiser-mon-activite-en-cuisine";
pub const TABLE_CLASS: &str = "service-a-table";

/// A trade référentiel with parts to strike out (fictitious), in CSV.
pub const TRADE_CSV: &str = "kind;id;parent;text\n\
referentiel;agent-test;;Agent de test\n\
version;;;2024-1\n\
source;;;Fictif, pour les tests\n\
licence;;;Fictif\n\
competence;C1;;Mettre la table et ranger la vaisselle\n\
part;a;C1;mettre la table\n\
part;b;C1;ranger la vaisselle\n\
competence;C2;;Accueillir les convives\n";

/// A class on the trade référentiel that accepts *en partie* for C1 and a declared C2.
pub const TABLE_TOML: &str = r#"
name = "Service à table"
for_whom = "Les jeunes de l'atelier restauration."
description = "Je montre que je sais servir à table."
criteria = "Je mets la table et j'accueille les convives."
image = "service-a-table.png"
[evidence]
expected = "Des photos du service."
[endorsements]
who = ["mon éducateur"]

[[recognises]]
referentiel = "agent-test"
competence = "C1"
answer = "je_fais_en_partie"

[[recognises]]
referentiel = "agent-test"
competence = "C2"
recognition = "declared"
"#;

pub fn auth() -> String {
    format!("Bearer {TOKEN}")
}

pub async fn post(s: &Server, path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Resp {
    let auth = auth();
    s.request(
        Some(body.into()),
        path,
        &[("content-type", content_type), ("authorization", &auth)],
    )
    .await
}

pub async fn get(s: &Server, path: &str) -> Resp {
    let auth = auth();
    s.request(None, path, &[("authorization", &auth)]).await
}

/// The shipped RECTEC class (and, with `csv_class`, the shipped class of CSV bulk awards) and the
/// trade class, in a folder of their own.
pub fn classes_dir(csv_class: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let shipped = Path::new(CLASSES_DIR);
    let slugs: &[&str] = if csv_class {
        &[RECTEC_CLASS, CLASS]
    } else {
        &[RECTEC_CLASS]
    };
    for slug in slugs {
        for ext in ["toml", "png"] {
            std::fs::copy(
                shipped.join(format!("{slug}.{ext}")),
                dir.path().join(format!("{slug}.{ext}")),
            )
            .unwrap();
        }
    }
    std::fs::copy(
        shipped.join(format!("{CLASS}.png")),
        dir.path().join(format!("{TABLE_CLASS}.png")),
    )
    .unwrap();
    std::fs::write(dir.path().join(format!("{TABLE_CLASS}.toml")), TABLE_TOML).unwrap();
    dir
}
