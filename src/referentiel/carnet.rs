//! A person's carnet: their positioning on one version of a référentiel (seed 000, the RAE
//! « Carnet numérique de compétences »).
//!
//! Per competence: one of the three answers (*je fais*, *je fais en partie*, *je ne fais pas*),
//! the parts struck out, whether an RAE jury validated it or the person declared it, the modality,
//! the date, the jury and the level reached. The three answers and the two recognitions are kept
//! as given: nothing here or in the store ever turns *en partie* into *je fais*, nor a declared
//! competence into a validated one (award rules and the printable list read these records).
//!
//! The JSON import (`docs/REFERENTIELS.md`) and the API's edit of one entry read fields with the
//! same functions and check them with the same rules ([`entry_problems`]).

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::json::{self, Lines, Reader, index, join, kind};
use super::{ImportError, Problems, Referentiel, Spanned};
use crate::recipient::{Email, hash_email, identity_hash};

/// Largest carnet file or request body accepted.
pub const MAX_CARNET_BYTES: usize = 1024 * 1024;
/// At most this many jury members per entry.
pub const MAX_JURY: usize = 20;
const MAX_COMMENT: usize = 2000;
const MAX_DISPLAY_NAME: usize = 80;

/// The person's answer for one competence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    JeFais,
    JeFaisEnPartie,
    JeNeFaisPas,
}

impl Answer {
    pub const ALL: [Answer; 3] = [Answer::JeFais, Answer::JeFaisEnPartie, Answer::JeNeFaisPas];

    pub fn as_str(self) -> &'static str {
        match self {
            Answer::JeFais => "je_fais",
            Answer::JeFaisEnPartie => "je_fais_en_partie",
            Answer::JeNeFaisPas => "je_ne_fais_pas",
        }
    }

    /// As the carnet shows it: « Je fais », « Je fais en partie », « Je ne fais pas ».
    pub fn label_fr(self) -> &'static str {
        match self {
            Answer::JeFais => "Je fais",
            Answer::JeFaisEnPartie => "Je fais en partie",
            Answer::JeNeFaisPas => "Je ne fais pas",
        }
    }

    pub fn parse(text: &str) -> Option<Answer> {
        Answer::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// Who recognised the competence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recognition {
    /// Declared by the person (self-positioning), not validated.
    Declared,
    /// Validated by an RAE jury.
    Validated,
}

impl Recognition {
    pub fn as_str(self) -> &'static str {
        match self {
            Recognition::Declared => "declared",
            Recognition::Validated => "validated",
        }
    }

    pub fn parse(text: &str) -> Option<Recognition> {
        [Recognition::Declared, Recognition::Validated]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// The RAE modality in which the competence was shown (seed 002, « Mobilisation des compétences »).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// « Je peux MONTRER » : at the workplace.
    EnSituationDeTravail,
    /// « Je peux EXPLIQUER » : an interview at the validating body.
    Externe,
    /// « Je peux COMPARER et ADAPTER » : a six-week internship, then the interview.
    ExterneAvecStage,
}

impl Modality {
    pub const ALL: [Modality; 3] = [
        Modality::EnSituationDeTravail,
        Modality::Externe,
        Modality::ExterneAvecStage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Modality::EnSituationDeTravail => "en_situation_de_travail",
            Modality::Externe => "externe",
            Modality::ExterneAvecStage => "externe_avec_stage",
        }
    }

    pub fn parse(text: &str) -> Option<Modality> {
        Modality::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// One member of an RAE jury, as free text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JuryMember {
    pub name: String,
    /// E.g. « représentant du DAVA », « tuteur de stage ».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The person's positioning on one competence. Its serde form is an entry of the import format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarnetEntry {
    pub competence: String,
    pub answer: Answer,
    /// Ids of the competence's parts struck out (only with *je fais en partie*).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub struck: Vec<String>,
    pub recognition: Recognition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modality: Option<Modality>,
    /// The jury's date (validated), or when the person declared it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jury: Vec<JuryMember>,
    /// The id of the level reached (a RECTEC cercle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// In the person's or the educator's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl CarnetEntry {
    fn new(competence: &str, answer: Answer) -> CarnetEntry {
        CarnetEntry {
            competence: competence.to_owned(),
            answer,
            struck: Vec::new(),
            recognition: Recognition::Declared,
            modality: None,
            date: None,
            jury: Vec::new(),
            level: None,
            comment: None,
        }
    }
}

/// Whose carnet it is. carnet keeps no clear email (the people are minors and vulnerable adults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Finds a person's carnets: `sha256$` of the normalised email salted with a value fixed per
    /// issuer, so the same email gives the same key within one institution (and another key in
    /// another). Like any salted email hash it is a pseudonym, not anonymity.
    pub person_key: String,
    /// A salted hash with a random salt, as in an award: awards issued later from this carnet can
    /// name their recipient with it, without the email.
    pub recipient_identity: String,
    pub recipient_salt: String,
    /// The name the person chose to show, if any.
    pub display_name: Option<String>,
}

impl Person {
    pub fn new(issuer_slug: &str, email: &Email, display_name: Option<String>) -> Person {
        let recipient = hash_email(email);
        Person {
            person_key: person_key(issuer_slug, email),
            recipient_identity: recipient.identity_hash,
            recipient_salt: recipient.salt,
            display_name,
        }
    }
}

/// The key under which an issuer finds a person's carnets.
pub fn person_key(issuer_slug: &str, email: &Email) -> String {
    identity_hash(email.as_str(), &format!("carnet-person:{issuer_slug}"))
}

/// Whether an award's or a request's salted hash (identity, salt) is `email`'s: how those made
/// before people were recorded are linked to the person when the email is given again.
pub fn hashed_from(email: &Email) -> impl Fn(&str, &str) -> bool + '_ {
    move |identity, salt| identity == identity_hash(email.as_str(), salt)
}

// ---- the rules ------------------------------------------------------------------------

/// What is wrong with an entry on this référentiel: (field, problem) pairs, the field relative to
/// the entry (`struck[1]`). Empty when the entry is acceptable.
pub fn entry_problems(entry: &CarnetEntry, referentiel: &Referentiel) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut add = |field: &str, problem: String| problems.push((field.to_owned(), problem));
    let Some(competence) = referentiel.competence(&entry.competence) else {
        add(
            "competence",
            format!(
                "the référentiel {} version {} has no competence \"{}\"",
                referentiel.id, referentiel.version, entry.competence
            ),
        );
        return problems;
    };
    let c = &competence.id;

    if !entry.struck.is_empty() {
        let parts: Vec<&str> = competence.parts.iter().map(|p| p.id.as_str()).collect();
        let mut seen = HashSet::new();
        for (i, id) in entry.struck.iter().enumerate() {
            let field = index("struck", i);
            if parts.is_empty() {
                add(
                    &field,
                    format!("competence {c} has no parts that can be struck out"),
                );
            } else if !parts.contains(&id.as_str()) {
                add(
                    &field,
                    format!(
                        "competence {c} has no part \"{id}\" (its parts: {})",
                        parts.join(", ")
                    ),
                );
            } else if !seen.insert(id.as_str()) {
                add(&field, format!("the part \"{id}\" is struck out twice"));
            }
        }
        if entry.answer != Answer::JeFaisEnPartie {
            add(
                "struck",
                format!(
                    "struck-out parts say what the person does not do: the answer must then be je_fais_en_partie, not {}",
                    entry.answer.as_str()
                ),
            );
        } else if !parts.is_empty() && parts.iter().all(|p| seen.contains(p)) {
            add(
                "struck",
                "every part is struck out: the answer is then je_ne_fais_pas".into(),
            );
        }
    }

    match entry.recognition {
        Recognition::Validated => {
            if entry.answer == Answer::JeNeFaisPas {
                add(
                    "recognition",
                    "« je ne fais pas » cannot be validated by a jury".into(),
                );
            }
            if entry.date.is_none() {
                add(
                    "date",
                    "a competence validated by a jury needs the date of the jury (YYYY-MM-DD)"
                        .into(),
                );
            }
            if entry.jury.is_empty() {
                add(
                    "jury",
                    "a competence validated by a jury needs the jury: its members' names and roles"
                        .into(),
                );
            }
            if entry.modality.is_none() {
                add(
                    "modality",
                    format!(
                        "a competence validated by a jury needs the modality: {}",
                        modality_names()
                    ),
                );
            }
        }
        Recognition::Declared => {
            if !entry.jury.is_empty() {
                add(
                    "jury",
                    "only a competence validated by a jury has a jury: set recognition to validated, or leave the jury out".into(),
                );
            }
        }
    }

    if let Some(level) = &entry.level {
        if referentiel.levels.is_empty() {
            add(
                "level",
                format!("the référentiel {} has no levels", referentiel.id),
            );
        } else if referentiel.level(level).is_none() {
            let ids: Vec<&str> = referentiel.levels.iter().map(|l| l.id.as_str()).collect();
            add(
                "level",
                format!("no level \"{level}\" (levels: {})", ids.join(", ")),
            );
        }
        if entry.answer == Answer::JeNeFaisPas {
            add("level", "« je ne fais pas » has no level reached".into());
        }
    }
    problems
}

fn answer_names() -> String {
    Answer::ALL.map(Answer::as_str).join(", ")
}

fn modality_names() -> String {
    Modality::ALL.map(Modality::as_str).join(", ")
}

// ---- reading fields (import and edit) ---------------------------------------------------

/// The entry fields a document gives. The outer `Option` says whether the field was given; for
/// optional fields, `Some(None)` is an explicit `null` (removes the value in an edit).
#[derive(Debug, Default)]
struct EntryFields {
    answer: Option<Answer>,
    struck: Option<Vec<String>>,
    recognition: Option<Recognition>,
    modality: Option<Option<Modality>>,
    date: Option<Option<NaiveDate>>,
    jury: Option<Vec<JuryMember>>,
    level: Option<Option<String>>,
    comment: Option<Option<String>>,
}

const ENTRY_FIELDS: &[&str] = &[
    "answer",
    "struck",
    "recognition",
    "modality",
    "date",
    "jury",
    "level",
    "comment",
];

/// Reads the entry fields of an object, reporting each problem as (field path, problem).
fn read_fields(map: &Map<String, Value>, problems: &mut Vec<(String, String)>) -> EntryFields {
    let mut f = EntryFields::default();
    let mut bad = |field: String, problem: String| problems.push((field, problem));
    for (key, value) in map {
        let null = value.is_null();
        match key.as_str() {
            "answer" => match value.as_str().and_then(Answer::parse) {
                Some(a) => f.answer = Some(a),
                None => bad(key.clone(), format!("must be one of: {}", answer_names())),
            },
            "recognition" => match value.as_str().and_then(Recognition::parse) {
                Some(r) => f.recognition = Some(r),
                None => bad(key.clone(), "must be declared or validated".into()),
            },
            "modality" if null => f.modality = Some(None),
            "modality" => match value.as_str().and_then(Modality::parse) {
                Some(m) => f.modality = Some(Some(m)),
                None => bad(key.clone(), format!("must be one of: {}", modality_names())),
            },
            "date" if null => f.date = Some(None),
            "date" => match value.as_str().and_then(parse_date) {
                Some(d) => f.date = Some(Some(d)),
                None => bad(
                    key.clone(),
                    "must be a date written YYYY-MM-DD (e.g. 2024-06-14)".into(),
                ),
            },
            "struck" if null => f.struck = Some(Vec::new()),
            "struck" => match value {
                Value::Array(items) => {
                    let mut ids = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        match scalar_text(item) {
                            Some(id) => ids.push(id),
                            None => bad(
                                index("struck", i),
                                format!("must be the id of a part, not {}", kind(item)),
                            ),
                        }
                    }
                    f.struck = Some(ids);
                }
                other => bad(
                    key.clone(),
                    format!("must be a list of part ids, not {}", kind(other)),
                ),
            },
            "jury" if null => f.jury = Some(Vec::new()),
            "jury" => f.jury = Some(read_jury(value, &mut bad)),
            "level" if null => f.level = Some(None),
            "level" => match scalar_text(value) {
                Some(l) => f.level = Some(Some(l)),
                None => bad(
                    key.clone(),
                    format!("must be the id of a level, not {}", kind(value)),
                ),
            },
            "comment" if null => f.comment = Some(None),
            "comment" => match value.as_str().map(str::trim) {
                Some("") => f.comment = Some(None),
                Some(c) => match crate::text::check(c, MAX_COMMENT, crate::text::Lines::Many) {
                    Ok(()) => f.comment = Some(Some(c.to_owned())),
                    Err(why) => bad(key.clone(), why),
                },
                None => bad(key.clone(), format!("must be text, not {}", kind(value))),
            },
            _ => {}
        }
    }
    f
}

/// A jury: a list of members, each `{"name", "role"?}` or a plain text.
fn read_jury(value: &Value, bad: &mut impl FnMut(String, String)) -> Vec<JuryMember> {
    let Value::Array(items) = value else {
        bad(
            "jury".into(),
            format!(
                "must be a list of members ({{\"name\": …, \"role\": …}}), not {}",
                kind(value)
            ),
        );
        return Vec::new();
    };
    if items.len() > MAX_JURY {
        bad(
            "jury".into(),
            format!("has {} members; the limit is {MAX_JURY}", items.len()),
        );
        return Vec::new();
    }
    let mut members = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = index("jury", i);
        let (name, role) = match item {
            Value::String(name) => (Some(name.as_str()), None),
            Value::Object(m) => {
                if let Some(k) = m.keys().find(|k| *k != "name" && *k != "role") {
                    bad(
                        join(&path, k),
                        "unknown field; expected one of: name, role".into(),
                    );
                }
                let role = match m.get("role") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(r)) => Some(r.as_str()),
                    Some(other) => {
                        bad(
                            join(&path, "role"),
                            format!("must be text, not {}", kind(other)),
                        );
                        None
                    }
                };
                (m.get("name").and_then(Value::as_str), role)
            }
            other => {
                bad(
                    path,
                    format!(
                        "must be a member {{\"name\": …, \"role\": …}}, not {}",
                        kind(other)
                    ),
                );
                continue;
            }
        };
        let name = name.map(str::trim).unwrap_or("");
        let role = role.map(str::trim).filter(|r| !r.is_empty());
        if name.is_empty() || name.chars().count() > 200 {
            bad(
                join(&path, "name"),
                "each member needs a name of 1 to 200 characters".into(),
            );
        } else if role.is_some_and(|r| r.chars().count() > 200) {
            bad(join(&path, "role"), "is longer than 200 characters".into());
        } else {
            members.push(JuryMember {
                name: name.to_owned(),
                role: role.map(str::to_owned),
            });
        }
    }
    members
}

/// `YYYY-MM-DD`, exactly.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    (text.len() == 10)
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

/// A non-empty text or number (ids are often typed as numbers: `"level": 2`).
fn scalar_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

impl EntryFields {
    /// Applies the given fields onto an entry.
    fn apply(self, entry: &mut CarnetEntry) {
        if let Some(a) = self.answer {
            entry.answer = a;
        }
        if let Some(s) = self.struck {
            entry.struck = s;
        }
        if let Some(r) = self.recognition {
            entry.recognition = r;
        }
        if let Some(m) = self.modality {
            entry.modality = m;
        }
        if let Some(d) = self.date {
            entry.date = d;
        }
        if let Some(j) = self.jury {
            entry.jury = j;
        }
        if let Some(l) = self.level {
            entry.level = l;
        }
        if let Some(c) = self.comment {
            entry.comment = c;
        }
    }

    /// Does this edit give a new jury decision (both its date and its jury)?
    fn gives_decision(&self) -> bool {
        matches!(self.date, Some(Some(_))) && self.jury.as_ref().is_some_and(|j| !j.is_empty())
    }
}

/// Edits one entry (the API's `PATCH`): `patch` is a JSON object of entry fields, `null` removing
/// an optional one. Without a current entry, the patch positions the competence and needs an
/// `answer`. Changing what a jury validated (answer, struck parts, level) needs a new decision
/// (`date` and `jury`) or `"recognition": "declared"`: a validated *en partie* can never quietly
/// become a validated *je fais*. Errors are (field, problem) pairs.
pub fn apply_patch(
    current: Option<&CarnetEntry>,
    competence: &str,
    patch: &Value,
    referentiel: &Referentiel,
) -> Result<CarnetEntry, Vec<(String, String)>> {
    let Value::Object(map) = patch else {
        return Err(vec![(
            "(body)".into(),
            format!(
                "must be a JSON object of entry fields ({}), not {}",
                ENTRY_FIELDS.join(", "),
                kind(patch)
            ),
        )]);
    };
    let mut problems = Vec::new();
    for key in map.keys() {
        if !ENTRY_FIELDS.contains(&key.as_str()) {
            problems.push((
                key.clone(),
                format!(
                    "unknown field; expected one of: {} (the competence is in the address)",
                    ENTRY_FIELDS.join(", ")
                ),
            ));
        }
    }
    let fields = read_fields(map, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let decision = fields.gives_decision();
    let mut entry = match (current, fields.answer) {
        (Some(current), _) => current.clone(),
        (None, Some(answer)) => CarnetEntry::new(competence, answer),
        (None, None) => {
            return Err(vec![(
                "answer".into(),
                format!(
                    "competence {competence} is not positioned yet: give the answer ({})",
                    answer_names()
                ),
            )]);
        }
    };
    fields.apply(&mut entry);
    if let Some(before) = current
        && before.recognition == Recognition::Validated
        && entry.recognition == Recognition::Validated
        && (before.answer != entry.answer
            || before.struck != entry.struck
            || before.level != entry.level)
        && !decision
    {
        return Err(vec![(
            "recognition".into(),
            format!(
                "a jury validated this competence ({}{}): changing the answer, the struck-out parts or the level needs the new jury decision (date and jury), or \"recognition\": \"declared\"",
                before.answer.label_fr(),
                before.date.map(|d| format!(", {d}")).unwrap_or_default()
            ),
        )]);
    }
    let problems = entry_problems(&entry, referentiel);
    if problems.is_empty() {
        Ok(entry)
    } else {
        Err(problems)
    }
}

// ---- the JSON import -----------------------------------------------------------------

/// A carnet file as read, before it is checked against its référentiel.
#[derive(Debug)]
pub struct CarnetDraft {
    problems: Problems,
    lines: Lines,
    referentiel_id: Option<Spanned<String>>,
    referentiel_version: Option<Spanned<String>>,
    email: Option<Email>,
    display_name: Option<String>,
    /// Each entry's path and, when its fields could be read, the entry.
    entries: Vec<(String, Option<CarnetEntry>)>,
}

/// A carnet to store: one person on one référentiel version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCarnet {
    pub id: Uuid,
    pub issuer_slug: String,
    pub person: Person,
    pub referentiel_id: String,
    pub referentiel_version: String,
    pub entries: Vec<CarnetEntry>,
    /// Who imported it: CLI user or API token name.
    pub created_by: String,
}

/// A carnet checked against its référentiel, ready to be stored.
#[derive(Debug, Clone)]
pub struct ValidCarnet {
    pub referentiel_id: String,
    pub referentiel_version: String,
    pub email: Email,
    pub display_name: Option<String>,
    /// In the référentiel's order.
    pub entries: Vec<CarnetEntry>,
}

impl ValidCarnet {
    /// What the store is asked to write: a new id, the person's hashed identity.
    pub fn into_new_carnet(self, issuer_slug: &str, created_by: &str) -> NewCarnet {
        NewCarnet {
            id: Uuid::new_v4(),
            issuer_slug: issuer_slug.to_owned(),
            person: Person::new(issuer_slug, &self.email, self.display_name),
            referentiel_id: self.referentiel_id,
            referentiel_version: self.referentiel_version,
            entries: self.entries,
            created_by: created_by.to_owned(),
        }
    }
}

/// Reads a carnet file. Syntax errors end the reading; other problems are kept for
/// [`CarnetDraft::validate`], which reports them all together.
pub fn parse_carnet(bytes: &[u8], file: &str) -> Result<CarnetDraft, Vec<ImportError>> {
    let mut problems = Problems::new(file);
    let text = match super::utf8_text(bytes, MAX_CARNET_BYTES) {
        Ok(text) => text,
        Err(problem) => {
            problems.add(&super::whole_file(), problem);
            return Err(problems.into_vec());
        }
    };
    let Some((value, lines)) = json::parse(text, &mut problems) else {
        return Err(problems.into_vec());
    };
    let mut r = Reader {
        lines: &lines,
        problems: &mut problems,
    };
    let Some(top) = r.object(&value, "", &["referentiel", "person", "entries"]) else {
        return Err(problems.into_vec());
    };
    let (mut referentiel_id, mut referentiel_version) = (None, None);
    if let Some(v) = r.required(top, "", "referentiel")
        && let Some(m) = r.object(v, "referentiel", &["id", "version"])
    {
        referentiel_id = r.string(m, "referentiel", "id", true);
        referentiel_version = r.string(m, "referentiel", "version", true);
    }
    let (mut email, mut display_name) = (None, None);
    if let Some(v) = r.required(top, "", "person")
        && let Some(m) = r.object(v, "person", &["email", "display_name"])
    {
        if let Some(e) = r.string(m, "person", "email", true) {
            match Email::parse(&e.value) {
                Ok(parsed) => email = Some(parsed),
                Err(problem) => r.problems.add(&e.at, problem),
            }
        }
        if let Some(n) = r.string(m, "person", "display_name", false) {
            let name = n.value.trim();
            if name.is_empty() || name.chars().count() > MAX_DISPLAY_NAME {
                r.problems.add(
                    &n.at,
                    format!("give 1 to {MAX_DISPLAY_NAME} characters, or leave it out"),
                );
            } else {
                display_name = Some(name.to_owned());
            }
        }
    }
    let mut entries = Vec::new();
    for (path, v) in r.array(top, "", "entries", true) {
        entries.push((path.clone(), read_entry(&mut r, v, &path)));
    }
    Ok(CarnetDraft {
        problems,
        lines,
        referentiel_id,
        referentiel_version,
        email,
        display_name,
        entries,
    })
}

/// One entry of the import: `competence` plus the entry fields.
fn read_entry(r: &mut Reader<'_>, value: &Value, path: &str) -> Option<CarnetEntry> {
    let mut known = vec!["competence"];
    known.extend_from_slice(ENTRY_FIELDS);
    let map = r.object(value, path, &known)?;
    let competence = r.required(map, path, "competence").and_then(|v| {
        let text = scalar_text(v);
        if text.is_none() {
            r.problem(
                &join(path, "competence"),
                format!("must be the id of a competence, not {}", kind(v)),
            );
        }
        text
    });
    let answer_given = r.required(map, path, "answer").is_some();
    let mut problems = Vec::new();
    let fields = read_fields(map, &mut problems);
    let ok = problems.is_empty();
    for (field, problem) in problems {
        r.problem(&join(path, &field), problem);
    }
    let (Some(competence), Some(answer), true, true) =
        (competence, fields.answer, answer_given, ok)
    else {
        return None;
    };
    let mut entry = CarnetEntry::new(&competence, answer);
    fields.apply(&mut entry);
    Some(entry)
}

impl CarnetDraft {
    /// The référentiel the carnet names, when it could be read: (id, version).
    pub fn referentiel(&self) -> Option<(&str, &str)> {
        Some((
            self.referentiel_id.as_ref()?.value.trim(),
            self.referentiel_version.as_ref()?.value.trim(),
        ))
    }

    /// Checks the entries against their référentiel (`None`: it is not imported) and reports
    /// every problem of the file.
    pub fn validate(
        mut self,
        referentiel: Option<&Referentiel>,
    ) -> Result<ValidCarnet, Vec<ImportError>> {
        let Some(referentiel) = referentiel else {
            if let (Some(id), Some(version)) = (&self.referentiel_id, &self.referentiel_version) {
                self.problems.add(
                    &id.at,
                    format!(
                        "no référentiel \"{}\" version \"{}\" is imported: import it first (carnet referentiels import)",
                        id.value.trim(),
                        version.value.trim()
                    ),
                );
            }
            return Err(self.problems.into_vec());
        };
        let mut seen = HashSet::new();
        let mut entries = Vec::new();
        for (path, entry) in &self.entries {
            let Some(entry) = entry else { continue };
            if !seen.insert(entry.competence.clone()) {
                let at = self.lines.loc(&join(path, "competence"));
                self.problems.add(
                    &at,
                    format!(
                        "competence {} is positioned twice in this carnet",
                        entry.competence
                    ),
                );
                continue;
            }
            for (field, problem) in entry_problems(entry, referentiel) {
                let at = self.lines.loc(&join(path, &field));
                self.problems.add(&at, problem);
            }
            entries.push(entry.clone());
        }
        entries.sort_by_key(|e| referentiel.position(&e.competence));
        match (self.email, self.problems.is_empty()) {
            (Some(email), true) => Ok(ValidCarnet {
                referentiel_id: referentiel.id.clone(),
                referentiel_version: referentiel.version.clone(),
                email,
                display_name: self.display_name,
                entries,
            }),
            _ => Err(self.problems.into_vec()),
        }
    }
}
