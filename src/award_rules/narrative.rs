//! The narrative of an award earned from a carnet, in plain French (FALC: short sentences, one
//! idea each, the person speaking, dates written out), Markdown as every narrative in carnet.
//!
//! It says what was recognised, how, and how far, as the carnet holds it:
//! - the person's answer in the carnet's own words, quoted: « Je fais » or « Je fais en partie »
//!   (an *en partie* entry is never written « Je fais »), and the struck-out parts (« Sauf : … »);
//! - a competence validated by an RAE jury: the jury's date and what the modality means for the
//!   person (« je peux montrer / expliquer / comparer et adapter », seed 002); the jury's members
//!   are not named (they did not agree to be published in a badge);
//! - a declared competence: « Je déclare que… » and « Aucun jury n'a validé cette compétence. »;
//! - the level reached, with the référentiel's descriptor for that level when it has one.

use chrono::{Datelike, NaiveDate};

use crate::badge_class::rules::{Outcome, struck_wordings};
use crate::referentiel::Referentiel;
use crate::referentiel::carnet::{Answer, Modality, Recognition};

/// The narrative of an award whose rules the outcomes met (in the class's order).
pub fn narrative(referentiel: &Referentiel, outcomes: &[Outcome]) -> String {
    let mut text = format!(
        "Ce badge reconnaît mes compétences du référentiel « {} » (version {}).",
        referentiel.name, referentiel.version
    );
    for outcome in outcomes {
        let Some(entry) = &outcome.entry else {
            continue;
        };
        let c = &outcome.competence;
        text.push_str(&format!("\n\nCompétence {} : {}", c.id, c.wording));
        let mut lines = Vec::new();
        let answer = match entry.answer {
            Answer::JeFais => "« Je fais »",
            Answer::JeFaisEnPartie => "« Je fais en partie »",
            // A rule never accepts it; written as it is all the same.
            Answer::JeNeFaisPas => "« Je ne fais pas »",
        };
        match entry.recognition {
            Recognition::Validated => lines.push(format!("Ma réponse dans mon carnet : {answer}.")),
            Recognition::Declared => {
                lines.push(match entry.answer {
                    Answer::JeFaisEnPartie => {
                        "Je déclare que je fais une partie de cette compétence.".into()
                    }
                    _ => "Je déclare que je fais cette compétence.".to_string(),
                });
                lines.push(format!("Ma réponse dans mon carnet : {answer}."));
            }
        }
        let struck = struck_wordings(c, entry);
        if !struck.is_empty() {
            lines.push(format!("Sauf : {}.", struck.join(" ; ")));
        }
        if let Some(level) = &outcome.level {
            let of = if referentiel.levels.len() > 1 {
                format!(" (sur {} niveaux)", referentiel.levels.len())
            } else {
                String::new()
            };
            let mut line = match entry.recognition {
                Recognition::Validated => format!("Mon niveau : {}{of}.", level.name),
                Recognition::Declared => format!("Je pense avoir le niveau {}{of}.", level.name),
            };
            if let Some(d) = c.descriptors.iter().find(|d| d.level == level.id) {
                line.push_str(&format!(" Cela veut dire : « {} ».", d.wording));
            }
            lines.push(line);
        }
        match entry.recognition {
            Recognition::Validated => {
                lines.push(match entry.date {
                    Some(d) => format!(
                        "Un jury a validé cette compétence le {}. C'était ma reconnaissance des acquis de l'expérience (RAE).",
                        french_date(d)
                    ),
                    None => "Un jury a validé cette compétence. C'était ma reconnaissance des acquis de l'expérience (RAE).".into(),
                });
                if let Some(m) = entry.modality {
                    lines.push(modality(m).into());
                }
            }
            Recognition::Declared => {
                lines.push("Aucun jury n'a validé cette compétence.".into());
                if let Some(d) = entry.date {
                    lines.push(format!("Je l'ai déclarée le {}.", french_date(d)));
                }
            }
        }
        for line in lines {
            text.push_str(&format!("\n- {line}"));
        }
    }
    text
}

/// What the RAE modality means for the person (seed 002: « je peux MONTRER », « EXPLIQUER »,
/// « COMPARER et ADAPTER »).
fn modality(m: Modality) -> &'static str {
    match m {
        Modality::EnSituationDeTravail => {
            "Le jury est venu sur mon lieu de travail. J'ai montré ce que je sais faire."
        }
        Modality::Externe => "J'ai expliqué ce que je sais faire au jury, dans un entretien.",
        Modality::ExterneAvecStage => {
            "J'ai fait un stage de 6 semaines en entreprise. Au jury, j'ai montré que je sais comparer et m'adapter."
        }
    }
}

/// « 14 juin 2024 » (« 1er » for the first of the month).
pub fn french_date(d: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let day = match d.day() {
        1 => "1er".to_string(),
        n => n.to_string(),
    };
    format!("{day} {} {}", MONTHS[d.month0() as usize], d.year())
}
