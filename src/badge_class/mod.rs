//! Co-built badge classes, one human-readable TOML file per class in `badge-classes/`.
//!
//! The file mirrors the co-construction matrix educators fill with the young people (see the domain
//! notes): for whom, what the badge recognises and its criteria in the first person, the evidence
//! expected, who may endorse, plus the image, tags, language and alignments to référentiel
//! competences. Files are loaded and validated at start; an error names the file, the field and
//! what is wrong. `carnet badge-classes check` runs the same checks.
//!
//! Each version of a class has a digest (SHA-256 of its file and image); [`BadgeClass::version`],
//! its first 12 hex digits, is the version its OB 2.0 BadgeClass URL carries.
//! [`endorsements_missing`] says how many endorsements a request still lacks before approval.
//!
//! [`rules`]: the class's award rules (`[[recognises]]`) and what one of them finds in a carnet.

pub mod rules;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::bake::png::PngTemplate;
use crate::hex::hex;
use crate::text::is_slug;

/// Largest badge-class file and image accepted.
const MAX_FILE_BYTES: u64 = 256 * 1024;
const MAX_IMAGE_BYTES: u64 = 2 * 1024 * 1024;

/// Length of a BadgeClass version: the first hex digits of the class digest.
const VERSION_LEN: usize = 12;

/// A validation problem, naming the file, the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {field}: {problem}")]
pub struct BadgeClassError {
    pub file: String,
    pub field: String,
    pub problem: String,
}

/// The file format, as written by people. Field names are in English, text in the class's language.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BadgeClassFile {
    name: String,
    #[serde(default = "default_language")]
    language: String,
    #[serde(default = "default_achievement_type")]
    achievement_type: String,
    /// Public: for whom is this badge.
    for_whom: String,
    /// What the badge recognises, in the first person (Markdown).
    description: String,
    /// What I must do to get it, in the first person (Markdown).
    criteria: String,
    image: String,
    #[serde(default)]
    image_caption: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    validity_days: Option<u32>,
    evidence: EvidenceFile,
    endorsements: EndorsementsFile,
    #[serde(default)]
    alignments: Vec<AlignmentFile>,
    /// Award rules: the référentiel competences the class recognises ([`rules`]).
    #[serde(default)]
    recognises: Vec<rules::RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceFile {
    expected: String,
    #[serde(default)]
    required: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndorsementsFile {
    who: Vec<String>,
    #[serde(default)]
    minimum: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlignmentFile {
    framework: String,
    target_name: String,
    #[serde(default)]
    target_code: Option<String>,
    #[serde(default)]
    target_description: Option<String>,
    #[serde(default)]
    target_url: Option<String>,
    #[serde(default)]
    level: Option<String>,
}

fn default_language() -> String {
    "fr".into()
}
fn default_achievement_type() -> String {
    "Badge".into()
}

/// A validated badge class.
#[derive(Debug, Clone)]
pub struct BadgeClass {
    pub slug: String,
    pub name: String,
    pub language: String,
    pub achievement_type: String,
    pub for_whom: String,
    pub description: String,
    pub criteria: String,
    /// The image's file name, as the class file gives it.
    pub image_name: String,
    pub image_png: Vec<u8>,
    /// The image checked and split once, ready to have an award baked in.
    pub png_template: crate::bake::png::PngTemplate,
    pub image_caption: Option<String>,
    pub tags: Vec<String>,
    pub validity_days: Option<u32>,
    pub evidence_expected: String,
    pub evidence_required: bool,
    pub endorsers: Vec<String>,
    pub endorsements_minimum: u32,
    pub alignments: Vec<Alignment>,
    /// The référentiel competences the class recognises (all of them), from `[[recognises]]`:
    /// such a class is awarded from a carnet that earns it (`crate::award_rules`).
    pub rules: Vec<rules::Rule>,
    /// The class file (its path, or `{institution}/{slug}.toml` when read from the database),
    /// for messages.
    pub file: String,
    /// The class file as written (TOML), what is stored and exported.
    pub source: String,
    /// SHA-256 of the file and its image: identifies this version of the class.
    pub digest: String,
}

impl BadgeClass {
    /// The version of the class as published in its OB 2.0 URL: the first 12 hex digits of the
    /// digest of its file and image, so any change to the class gives a new URL and an issued
    /// assertion keeps pointing at what the recipient was awarded.
    pub fn version(&self) -> &str {
        self.digest.get(..VERSION_LEN).unwrap_or(&self.digest)
    }

    /// The class file as messages name it.
    pub fn file_name(&self) -> String {
        self.file.clone()
    }
}

#[derive(Debug, Clone)]
pub struct Alignment {
    pub framework: String,
    pub target_name: String,
    pub target_code: Option<String>,
    pub target_description: Option<String>,
    /// Absent: carnet points at the alignment on the class's own page.
    pub target_url: Option<String>,
    pub level: Option<String>,
}

/// Loads and validates every `*.toml` file of the directory. Returns every problem found, not just the first.
pub fn load_dir(dir: &Path) -> Result<BTreeMap<String, BadgeClass>, Vec<BadgeClassError>> {
    let dir_name = dir.display().to_string();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            return Err(vec![BadgeClassError {
                file: dir_name,
                field: "(directory)".into(),
                problem: format!("cannot read the badge-classes directory: {e}"),
            }]);
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut classes = BTreeMap::new();
    let mut errors = Vec::new();
    for path in paths {
        match load_file(&path) {
            Ok(class) => {
                classes.insert(class.slug.clone(), class);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(classes)
    } else {
        Err(errors)
    }
}

/// Loads and validates one badge-class file.
pub fn load_file(path: &Path) -> Result<BadgeClass, Vec<BadgeClassError>> {
    let file = path.display().to_string();
    let e = |field: &str, problem: String| BadgeClassError {
        file: file.clone(),
        field: field.into(),
        problem,
    };
    let slug = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    if !is_slug(&slug) {
        return Err(vec![e(
            "(file name)",
            "the file name gives the badge's address: use lowercase letters, digits and hyphens, e.g. securite-hygiene-au-travail.toml".into(),
        )]);
    }
    let size = fs::metadata(path)
        .map_err(|err| vec![e("(file)", err.to_string())])?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(vec![e(
            "(file)",
            format!("the file is {size} bytes; the limit is {MAX_FILE_BYTES}"),
        )]);
    }
    let raw = fs::read(path).map_err(|err| vec![e("(file)", err.to_string())])?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse(&file, &slug, &raw, |name| read_image(&dir.join(name)))
}

/// Validates one class from its file's bytes, as [`load_file`] does for a file on disk; `file`
/// names it in messages and `image` gives the bytes of the image the file names (a plain
/// name, checked here).
pub fn parse(
    file: &str,
    slug: &str,
    raw: &[u8],
    image: impl FnOnce(&str) -> Result<Vec<u8>, String>,
) -> Result<BadgeClass, Vec<BadgeClassError>> {
    let e = |field: &str, problem: String| BadgeClassError {
        file: file.to_owned(),
        field: field.into(),
        problem,
    };
    if !is_slug(slug) {
        return Err(vec![e(
            "(file name)",
            "the file name gives the badge's address: use lowercase letters, digits and hyphens, e.g. securite-hygiene-au-travail.toml".into(),
        )]);
    }
    if raw.len() as u64 > MAX_FILE_BYTES {
        return Err(vec![e(
            "(file)",
            format!(
                "the file is {} bytes; the limit is {MAX_FILE_BYTES}",
                raw.len()
            ),
        )]);
    }
    let text = std::str::from_utf8(raw)
        .map_err(|_| vec![e("(file)", "the file is not UTF-8 text".into())])?;
    let parsed: BadgeClassFile = toml::from_str(text).map_err(|err| {
        let line = err.span().map(|s| text[..s.start].lines().count().max(1));
        let field = err
            .message()
            .split('`')
            .nth(1)
            .unwrap_or("(syntax)")
            .to_string();
        let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
        vec![e(&field, format!("{}{at}", err.message().trim()))]
    })?;

    let mut errors = Vec::new();
    let mut need = |field: &str, value: &str, max: usize| {
        if value.trim().is_empty() {
            errors.push(e(field, "must not be empty".into()));
        } else if value.chars().count() > max {
            errors.push(e(field, format!("is longer than {max} characters")));
        }
    };
    need("name", &parsed.name, 120);
    need("for_whom", &parsed.for_whom, 2000);
    need("description", &parsed.description, 8000);
    need("criteria", &parsed.criteria, 8000);
    need("evidence.expected", &parsed.evidence.expected, 4000);
    if !is_language_tag(&parsed.language) {
        errors.push(e(
            "language",
            format!(
                "\"{}\" is not a language tag such as fr or fr-FR",
                parsed.language
            ),
        ));
    }
    if !ACHIEVEMENT_TYPES.contains(&parsed.achievement_type.as_str())
        && !parsed.achievement_type.starts_with("ext:")
    {
        errors.push(e(
            "achievement_type",
            format!("\"{}\" is not an Open Badges achievement type (e.g. Badge, Competency, Certificate)", parsed.achievement_type),
        ));
    }
    for (i, tag) in parsed.tags.iter().enumerate() {
        if tag.trim().is_empty() || tag.chars().count() > 60 {
            errors.push(e(
                &format!("tags[{i}]"),
                "tags must be 1 to 60 characters".into(),
            ));
        }
    }
    if parsed.validity_days == Some(0) {
        errors.push(e(
            "validity_days",
            "must be at least 1 (or be left out for no expiry)".into(),
        ));
    }
    if parsed.endorsements.who.iter().any(|w| w.trim().is_empty()) {
        errors.push(e("endorsements.who", "entries must not be empty".into()));
    }
    for (i, a) in parsed.alignments.iter().enumerate() {
        let f = |name: &str| format!("alignments[{i}].{name}");
        if a.framework.trim().is_empty() {
            errors.push(e(&f("framework"), "must not be empty".into()));
        }
        if a.target_name.trim().is_empty() {
            errors.push(e(&f("target_name"), "must not be empty".into()));
        }
        if let Some(url) = &a.target_url
            && !url.starts_with("https://")
            && !url.starts_with("http://")
        {
            errors.push(e(
                &f("target_url"),
                format!("\"{url}\" is not an http(s) URL"),
            ));
        }
    }

    let rules = rules::read_rules(&parsed.recognises, text, &mut |field, problem| {
        errors.push(e(&field, problem))
    });

    let mut image_png = Vec::new();
    let mut png_template = None;
    if parsed.image.contains('/') || parsed.image.contains('\\') || parsed.image.contains("..") {
        errors.push(e(
            "image",
            "give a file name next to the class file, without directories".into(),
        ));
    } else {
        match image(&parsed.image).and_then(|bytes| check_image(&parsed.image, bytes)) {
            Ok((bytes, template)) => {
                image_png = bytes;
                png_template = Some(template);
            }
            Err(problem) => errors.push(e("image", problem)),
        }
    }
    let png_template = match png_template {
        Some(t) if errors.is_empty() => t,
        _ => return Err(errors),
    };

    let mut hasher = Sha256::new();
    hasher.update(raw);
    hasher.update(&image_png);
    let digest = hex(&hasher.finalize());
    Ok(BadgeClass {
        slug: slug.to_owned(),
        name: parsed.name.trim().into(),
        language: parsed.language,
        achievement_type: parsed.achievement_type,
        for_whom: parsed.for_whom.trim().into(),
        description: parsed.description.trim().into(),
        criteria: parsed.criteria.trim().into(),
        image_name: parsed.image,
        image_png,
        png_template,
        image_caption: parsed.image_caption,
        tags: parsed.tags,
        validity_days: parsed.validity_days,
        evidence_expected: parsed.evidence.expected.trim().into(),
        evidence_required: parsed.evidence.required,
        endorsers: parsed.endorsements.who,
        endorsements_minimum: parsed.endorsements.minimum,
        alignments: parsed
            .alignments
            .into_iter()
            .map(|a| Alignment {
                framework: a.framework,
                target_name: a.target_name,
                target_code: a.target_code,
                target_description: a.target_description,
                target_url: a.target_url,
                level: a.level,
            })
            .collect(),
        rules,
        file: file.to_owned(),
        source: text.to_owned(),
        digest,
    })
}

/// How many endorsements a class still misses before approval, if any.
pub fn endorsements_missing(minimum: u32, received: usize) -> Option<u32> {
    let received = u32::try_from(received).unwrap_or(u32::MAX);
    (received < minimum).then(|| minimum - received)
}

/// Reads an image file, refusing one over the size limit before reading it.
fn read_image(path: &Path) -> Result<Vec<u8>, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.len() > MAX_IMAGE_BYTES {
        return Err(format!(
            "{} is {} bytes; the limit is {MAX_IMAGE_BYTES}",
            path.display(),
            meta.len()
        ));
    }
    fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The image must be a PNG that decodes within bounds (carnet bakes into it).
fn check_image(name: &str, bytes: Vec<u8>) -> Result<(Vec<u8>, PngTemplate), String> {
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        return Err(format!(
            "{name} is {} bytes; the limit is {MAX_IMAGE_BYTES}",
            bytes.len()
        ));
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(&bytes));
    reader.set_format(image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(2048);
    limits.max_image_height = Some(2048);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| format!("{} is not a readable PNG image: {e}", name))?;
    if w < 64 || h < 64 {
        return Err(format!(
            "{} is {w}×{h}; use at least 64×64 (256×256 or more is better)",
            name
        ));
    }
    let template =
        PngTemplate::new(&bytes).map_err(|e| format!("{} cannot carry a badge: {e}", name))?;
    Ok((bytes, template))
}

/// The OB 3.0 `achievementType` vocabulary (also read by the verifier's conformance checks).
pub const ACHIEVEMENT_TYPES: &[&str] = &[
    "Achievement",
    "ApprenticeshipCertificate",
    "Assessment",
    "Assignment",
    "AssociateDegree",
    "Award",
    "Badge",
    "BachelorDegree",
    "Certificate",
    "CertificateOfCompletion",
    "Certification",
    "CommunityService",
    "Competency",
    "Course",
    "CoCurricular",
    "Degree",
    "Diploma",
    "DoctoralDegree",
    "Fieldwork",
    "GeneralEducationDevelopment",
    "JourneymanCertificate",
    "LearningProgram",
    "License",
    "Membership",
    "ProfessionalDoctorate",
    "QualityAssuranceCredential",
    "MasterCertificate",
    "MasterDegree",
    "MicroCredential",
    "ResearchDoctorate",
    "SecondarySchoolDiploma",
];

fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or_default();
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("badge-classes")
    }

    #[test]
    fn the_shipped_class_is_valid() {
        let classes = load_dir(&shipped_dir()).expect("shipped classes validate");
        let c = &classes["securite-hygiene-au-travail"];
        assert_eq!(c.name, "Sécurité et hygiène au travail");
        assert_eq!(c.language, "fr");
        assert!(c.criteria.contains("Je "));
        assert!(!c.alignments.is_empty());
        assert_eq!(c.digest.len(), 64);
    }

    fn write_class(dir: &Path, name: &str, body: &str) -> PathBuf {
        fs::copy(
            shipped_dir().join("securite-hygiene-au-travail.png"),
            dir.join("img.png"),
        )
        .unwrap();
        let p = dir.join(name);
        fs::write(&p, body).unwrap();
        p
    }

    const MINIMAL: &str = r#"
name = "Test"
for_whom = "Tout le monde"
description = "Je montre que je sais."
criteria = "Je fais."
image = "img.png"
[evidence]
expected = "Une photo."
[endorsements]
who = ["mon éducateur"]
"#;

    #[test]
    fn endorsements_missing_counts_what_is_short() {
        assert_eq!(endorsements_missing(2, 0), Some(2));
        assert_eq!(endorsements_missing(2, 2), None);
        assert_eq!(endorsements_missing(0, 0), None);
    }

    #[test]
    fn errors_name_file_field_and_problem() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write_class(tmp.path(), "ok-class.toml", MINIMAL);
        assert!(load_file(&p).is_ok());

        let p = write_class(
            tmp.path(),
            "missing.toml",
            &MINIMAL.replace("criteria = \"Je fais.\"\n", ""),
        );
        let e = &load_file(&p).unwrap_err()[0];
        assert_eq!(e.field, "criteria");
        assert!(e.file.ends_with("missing.toml"));

        let p = write_class(
            tmp.path(),
            "unknown.toml",
            &format!("colour = \"red\"\n{MINIMAL}"),
        );
        let e = &load_file(&p).unwrap_err()[0];
        assert_eq!(e.field, "colour");
        assert!(e.problem.contains("line 1"), "{e}");

        let p = write_class(
            tmp.path(),
            "lang.toml",
            &format!("language = \"French\"\n{MINIMAL}"),
        );
        assert_eq!(load_file(&p).unwrap_err()[0].field, "language");

        let p = write_class(
            tmp.path(),
            "img.toml",
            &MINIMAL.replace("img.png", "missing.png"),
        );
        assert_eq!(load_file(&p).unwrap_err()[0].field, "image");

        fs::write(tmp.path().join("bad.png"), b"not a png").unwrap();
        let p = write_class(
            tmp.path(),
            "badimg.toml",
            &MINIMAL.replace("img.png", "bad.png"),
        );
        assert!(
            load_file(&p).unwrap_err()[0]
                .problem
                .contains("not a readable PNG")
        );

        let p = write_class(tmp.path(), "Bad Name.toml", MINIMAL);
        assert_eq!(load_file(&p).unwrap_err()[0].field, "(file name)");
    }
}
