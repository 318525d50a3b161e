//! The credential itself: `AchievementCredential` / `OpenBadgeCredential` (CHECKLIST §5) and
//! `EndorsementCredential` (§9), with `Evidence` and the VC service links (`credentialSchema`,
//! `credentialStatus`, `refreshService`, `termsOfUse`). Embedded `endorsement[]` entries are read
//! with the same code, as the verification algorithm asks (`verification.md` step 6).

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::VcVersion;
use super::context;
use super::profile::{Image, Profile, read_image, read_profile};
use super::reader::{Ctx, Object, TypeShape, join, shown};
use super::subject::{
    AchievementSubject, EndorsementSubject, read_achievement_subject, read_endorsement_subject,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// `OpenBadgeCredential` or its alias `AchievementCredential`.
    Achievement,
    Endorsement,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Achievement(Box<AchievementSubject>),
    Endorsement(EndorsementSubject),
}

/// An OB 3.0 credential as carnet reads it. Built only when every required part is present and
/// well typed; optional parts with problems are left out (and reported).
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub version: VcVersion,
    pub kind: CredentialKind,
    /// Required by OB 3.0; optional in VC 1.1 credentials.
    pub id: Option<String>,
    pub types: Vec<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub image: Option<Image>,
    pub issuer: Profile,
    /// `validFrom`, or `issuanceDate` for VC 1.1.
    pub valid_from: DateTime<FixedOffset>,
    /// `validUntil`, or `expirationDate` for VC 1.1.
    pub valid_until: Option<DateTime<FixedOffset>>,
    pub awarded_date: Option<DateTime<FixedOffset>>,
    pub subject: Subject,
    pub evidence: Vec<Evidence>,
    pub credential_schema: Vec<Link>,
    pub credential_status: Option<Link>,
    pub refresh_service: Option<Link>,
    pub endorsement: Vec<Credential>,
    pub endorsement_jwt: Vec<String>,
    /// Number of embedded proofs (their content is checked by the proof verifiers).
    pub proof_count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub id: Option<String>,
    pub types: Vec<String>,
    pub name: Option<String>,
    pub narrative: Option<String>,
    pub description: Option<String>,
    pub genre: Option<String>,
    pub audience: Option<String>,
}

/// `{id, type}`: a credential schema, status entry or refresh service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: String,
    pub type_: String,
}

/// Reads a credential at `path` (empty at the top level). `expected` is `Some(Endorsement)` for
/// `endorsement[]` entries; at the top level the kind follows from `type`.
pub(super) fn read_credential(
    ctx: &mut Ctx,
    v: &Value,
    path: &str,
    expected: Option<CredentialKind>,
) -> Option<Credential> {
    let class = match expected {
        Some(CredentialKind::Endorsement) => "EndorsementCredential",
        _ => "AchievementCredential",
    };
    let obj = ctx.object(v, path, class)?;
    if !ctx.enter(path) {
        return None;
    }
    let version = context::vc_version(v);
    let outer_legacy = ctx.legacy;
    ctx.legacy = version == Some(VcVersion::V1_1);
    let read = read_fields(ctx, obj, path, expected, version);
    ctx.legacy = outer_legacy;
    ctx.leave();
    read
}

fn read_fields(
    ctx: &mut Ctx,
    obj: &Object,
    path: &str,
    expected: Option<CredentialKind>,
    version: Option<VcVersion>,
) -> Option<Credential> {
    context::check(obj, path, &mut ctx.findings);
    let (kind, types) = read_types(ctx, obj, path, expected);

    let id = if Ctx::get(obj, "id").is_some() {
        ctx.opt_uri(obj, path, "id")
    } else {
        let at = join(path, "id");
        ctx.fail_unless_legacy(
            &at,
            format!("{at} est obligatoire : une URI qui identifie ce justificatif"),
            format!("{at} is required: a URI that identifies this credential"),
        );
        None
    };
    let name = ctx.opt_str(obj, path, "name");
    if Ctx::get(obj, "name").is_none() && (kind == CredentialKind::Endorsement || ctx.legacy) {
        let at = join(path, "name");
        ctx.fail_unless_legacy(
            &at,
            format!("{at} est obligatoire pour ce type de justificatif"),
            format!("{at} is required for this kind of credential"),
        );
    }
    let description = ctx.opt_str(obj, path, "description");
    let image = Ctx::get(obj, "image").and_then(|v| read_image(ctx, v, &join(path, "image")));
    let issuer = read_issuer(ctx, obj, path);
    let (valid_from, valid_until) = read_validity(ctx, obj, path, version);
    let awarded_date = ctx.opt_date_time(obj, path, "awardedDate");
    let subject = read_subject(ctx, obj, path, kind);
    let evidence = ctx.list(obj, path, "evidence", read_evidence);
    let credential_schema = ctx.list(obj, path, "credentialSchema", read_link);
    let credential_status = Ctx::get(obj, "credentialStatus")
        .and_then(|v| read_link(ctx, v, &join(path, "credentialStatus")));
    let refresh_service = Ctx::get(obj, "refreshService")
        .and_then(|v| read_link(ctx, v, &join(path, "refreshService")));
    ctx.list(obj, path, "termsOfUse", read_terms_of_use);
    let endorsement = read_endorsements(ctx, obj, path);
    let endorsement_jwt = ctx.compact_jws_list(obj, path);
    let proof_count = count_proofs(ctx, obj, path);

    Some(Credential {
        version: version?,
        kind,
        id,
        types: types?,
        name,
        description,
        image,
        issuer: issuer?,
        valid_from: valid_from?,
        valid_until,
        awarded_date,
        subject: subject?,
        evidence,
        credential_schema,
        credential_status,
        refresh_service,
        endorsement,
        endorsement_jwt,
        proof_count,
    })
}

/// `type` ⊇ {VerifiableCredential, OpenBadgeCredential | AchievementCredential} (or
/// EndorsementCredential). Returns the kind to read the subject with, and the types when valid.
fn read_types(
    ctx: &mut Ctx,
    obj: &Object,
    base: &str,
    expected: Option<CredentialKind>,
) -> (CredentialKind, Option<Vec<String>>) {
    let path = join(base, "type");
    let Some(v) = ctx.required(obj, base, "type") else {
        return (expected.unwrap_or(CredentialKind::Achievement), None);
    };
    let names = ctx.type_names(v, &path);
    let has = |t: &str| names.iter().any(|n| n == t);
    let kind = expected.unwrap_or(if has("EndorsementCredential") {
        CredentialKind::Endorsement
    } else {
        CredentialKind::Achievement
    });
    if names.is_empty() {
        return (kind, None);
    }
    let mut ok = true;
    let mut require = |ctx: &mut Ctx, present: bool, what_fr: &str, what_en: &str| {
        if !present {
            ok = false;
            ctx.fail(
                &path,
                format!("{path} doit contenir {what_fr} (trouvé : {})", shown(v)),
                format!("{path} must contain {what_en} (found: {})", shown(v)),
            );
        }
    };
    let vc = "\"VerifiableCredential\"";
    require(ctx, has("VerifiableCredential"), vc, vc);
    match kind {
        CredentialKind::Achievement => require(
            ctx,
            has("OpenBadgeCredential") || has("AchievementCredential"),
            "\"OpenBadgeCredential\" ou \"AchievementCredential\"",
            "\"OpenBadgeCredential\" or \"AchievementCredential\"",
        ),
        CredentialKind::Endorsement => {
            let endorsement = "\"EndorsementCredential\"";
            require(ctx, has("EndorsementCredential"), endorsement, endorsement);
        }
    }
    if ok && !v.is_array() {
        ctx.warn(
            &path,
            format!("{path} : le schéma JSON officiel attend une liste"),
            format!("{path}: the official JSON schema expects an array"),
        );
    }
    (kind, ok.then_some(names))
}

/// The 1EdTech validator rejects an issuer given only by its URI, although the schema allows it:
/// carnet follows the validator, so badges it accepts are accepted everywhere.
fn read_issuer(ctx: &mut Ctx, obj: &Object, base: &str) -> Option<Profile> {
    let path = join(base, "issuer");
    match ctx.required(obj, base, "issuer")? {
        Value::String(s) => {
            ctx.fail(
                &path,
                format!(
                    "{path} doit être un objet Profile {{\"id\": \"{s}\", \"type\": [\"Profile\"], \"name\": …}} ; \
                     une simple URI est refusée par le validateur 1EdTech"
                ),
                format!(
                    "{path} must be a Profile object {{\"id\": \"{s}\", \"type\": [\"Profile\"], \"name\": …}}; \
                     a bare URI is rejected by the 1EdTech validator"
                ),
            );
            None
        }
        v => read_profile(ctx, v, &path),
    }
}

type Instant = DateTime<FixedOffset>;

/// `validFrom`/`validUntil` (VC 2.0) or `issuanceDate`/`expirationDate` (VC 1.1); when the
/// version is unknown (bad `@context`, already reported), either pair is read.
fn read_validity(
    ctx: &mut Ctx,
    obj: &Object,
    base: &str,
    version: Option<VcVersion>,
) -> (Option<Instant>, Option<Instant>) {
    const V2: (&str, &str) = ("validFrom", "validUntil");
    const V1: (&str, &str) = ("issuanceDate", "expirationDate");
    let ((from_key, until_key), other) = match version {
        Some(VcVersion::V2) => (V2, Some((V1, "VC 1.1"))),
        Some(VcVersion::V1_1) => (V1, Some((V2, "VC 2.0"))),
        None if Ctx::get(obj, "validFrom").is_none() && Ctx::get(obj, "issuanceDate").is_some() => {
            (V1, None)
        }
        None => (V2, None),
    };
    let from_path = join(base, from_key);
    let from = match Ctx::get(obj, from_key) {
        Some(v) => ctx.as_date_time(v, &from_path),
        None => {
            match other.filter(|((other_from, _), _)| Ctx::get(obj, other_from).is_some()) {
                Some(((other_from, _), model)) => ctx.fail(
                    &from_path,
                    format!("{from_path} est obligatoire ; {other_from} appartient au modèle {model} et ne le remplace pas"),
                    format!("{from_path} is required; {other_from} belongs to the {model} model and does not replace it"),
                ),
                None => ctx.missing(&from_path),
            }
            None
        }
    };
    if let Some(((other_from, other_until), model)) = other {
        let ignored = [(other_from, from_key), (other_until, until_key)];
        for (key, instead) in ignored
            .into_iter()
            .filter(|(k, _)| Ctx::get(obj, k).is_some())
        {
            if key == other_from && Ctx::get(obj, from_key).is_none() {
                continue; // already said above
            }
            let at = join(base, key);
            ctx.warn(
                &at,
                format!("{at} appartient au modèle {model} et n'est pas pris en compte (utiliser {instead})"),
                format!("{at} belongs to the {model} model and is ignored (use {instead})"),
            );
        }
    }
    let until = ctx.opt_date_time(obj, base, until_key);
    if let (Some(f), Some(u)) = (from, until)
        && u < f
    {
        let at = join(base, until_key);
        ctx.warn(
            &at,
            format!("{at} est antérieur à {from_key} : le justificatif n'est jamais valide"),
            format!("{at} is earlier than {from_key}: the credential is never valid"),
        );
    }
    (from, until)
}

fn read_subject(ctx: &mut Ctx, obj: &Object, base: &str, kind: CredentialKind) -> Option<Subject> {
    let path = join(base, "credentialSubject");
    let v = ctx.required(obj, base, "credentialSubject")?;
    if v.is_array() {
        ctx.fail(
            &path,
            format!("{path} doit être un seul objet (un badge a un seul titulaire), pas une liste"),
            format!("{path} must be a single object (a badge has one holder), not an array"),
        );
        return None;
    }
    match kind {
        CredentialKind::Achievement => {
            read_achievement_subject(ctx, v, &path).map(|s| Subject::Achievement(Box::new(s)))
        }
        CredentialKind::Endorsement => {
            read_endorsement_subject(ctx, v, &path).map(Subject::Endorsement)
        }
    }
}

fn read_evidence(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Evidence> {
    let obj = ctx.object(v, path, "Evidence")?;
    let types = ctx.types(obj, path, "Evidence", TypeShape::List);
    let id = ctx.opt_uri(obj, path, "id");
    let mut opt = |key: &str| ctx.opt_str(obj, path, key);
    let (name, narrative, description, genre, audience) = (
        opt("name"),
        opt("narrative"),
        opt("description"),
        opt("genre"),
        opt("audience"),
    );
    types.iter().any(|t| t == "Evidence").then_some(())?;
    Some(Evidence {
        id,
        types,
        name,
        narrative,
        description,
        genre,
        audience,
    })
}

fn read_link(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Link> {
    let obj = ctx.object(v, path, "{id, type}")?;
    let id = ctx.req_uri(obj, path, "id");
    let type_ = ctx.req_str(obj, path, "type");
    Some(Link {
        id: id?,
        type_: type_?,
    })
}

fn read_terms_of_use(ctx: &mut Ctx, v: &Value, path: &str) -> Option<()> {
    let obj = ctx.object(v, path, "TermsOfUse")?;
    ctx.req_str(obj, path, "type")?;
    ctx.opt_uri(obj, path, "id");
    Some(())
}

/// `endorsement[]`: embedded EndorsementCredentials, read like top-level ones.
pub(super) fn read_endorsements(ctx: &mut Ctx, obj: &Object, base: &str) -> Vec<Credential> {
    ctx.list(obj, base, "endorsement", |ctx, v, path| {
        read_credential(ctx, v, path, Some(CredentialKind::Endorsement))
    })
}

/// `proof`: one object or a list of objects. What is inside is the proof verifiers' business.
fn count_proofs(ctx: &mut Ctx, obj: &Object, base: &str) -> usize {
    let path = join(base, "proof");
    let bad = |ctx: &mut Ctx, at: &str, v: &Value| {
        ctx.fail(
            at,
            format!(
                "{at} doit être un objet preuve ou une liste d'objets preuve (trouvé : {})",
                shown(v)
            ),
            format!(
                "{at} must be a proof object or a list of proof objects (found: {})",
                shown(v)
            ),
        );
    };
    match Ctx::get(obj, "proof") {
        None => 0,
        Some(Value::Object(_)) => 1,
        Some(Value::Array(items)) => {
            for (i, item) in items
                .iter()
                .enumerate()
                .filter(|(_, item)| !item.is_object())
            {
                bad(ctx, &format!("{path}[{i}]"), item);
            }
            items.iter().filter(|i| i.is_object()).count()
        }
        Some(other) => {
            bad(ctx, &path, other);
            0
        }
    }
}
