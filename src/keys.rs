//! Issuer key material: one Ed25519 key for Data Integrity proofs (eddsa-rdfc-2022) and one RSA-2048
//! key for RS256 (VC-JWT, and the OB 2.0 signed badges to come), per issuer, in `keys/<issuer-slug>/`.
//!
//! Keys are generated on first start, written owner-only (0600 files, 0700 directory), listed in a
//! `manifest.json`, and never printed: `Debug` shows the key id only. `carnet keys rotate` adds a new
//! active key; retired keys stay published so that badges signed earlier still verify.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::RS256;
use serde::{Deserialize, Serialize};
use sha2::Digest;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} can be read by other users (mode {mode:o}); run: chmod 600 {path}")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("key file {path} is damaged: {problem}")]
    Corrupt { path: PathBuf, problem: String },
    #[error("could not generate a key: {0}")]
    Generate(String),
    #[error("the stored key {kid} of {issuer} cannot be used: {problem}")]
    Sealed {
        issuer: String,
        kid: String,
        problem: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The algorithm family of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyAlg {
    /// Ed25519, used for Data Integrity `eddsa-rdfc-2022` and optionally VC-JWT `EdDSA`.
    Ed25519,
    /// RSA-2048, used for VC-JWT `RS256` (and OB 2.0 signed assertions).
    Rsa,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ManifestEntry {
    kid: String,
    alg: KeyAlg,
    created: DateTime<Utc>,
    /// `active` keys sign; `retired` keys only stay published.
    status: String,
    file: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    keys: Vec<ManifestEntry>,
}

/// An Ed25519 signing key. Its `Debug` never shows secret bytes.
#[derive(Clone)]
pub struct Ed25519Key {
    pub kid: String,
    pub created: DateTime<Utc>,
    pub active: bool,
    signing: SigningKey,
}

impl Ed25519Key {
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }
    /// The public key as a JWK (`OKP` / `Ed25519`).
    pub fn public_jwk(&self) -> serde_json::Value {
        use base64::Engine;
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(self.verifying_key().as_bytes());
        serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "EdDSA", "use": "sig"})
    }
}

impl fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519Key")
            .field("kid", &self.kid)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// An RSA key pair. The signer is parsed once, when the key loads: decoding the PEM costs more
/// than the signature itself (OpenSSL 3 decoders), and bulk awards sign two JWTs per award. Its
/// `Debug` never shows secret bytes.
#[derive(Clone)]
pub struct RsaKey {
    pub kid: String,
    pub created: DateTime<Utc>,
    pub active: bool,
    signer: Arc<josekit::jws::alg::rsassa::RsassaJwsSigner>,
    public_pem: String,
    public_jwk: Jwk,
}

impl RsaKey {
    pub fn signer(
        &self,
    ) -> Result<&josekit::jws::alg::rsassa::RsassaJwsSigner, josekit::JoseError> {
        Ok(&self.signer)
    }
    /// The public key as a JWK (`RSA`), without any private member.
    pub fn public_jwk(&self) -> serde_json::Value {
        let mut v = serde_json::Value::Object(self.public_jwk.as_ref().clone());
        v["alg"] = "RS256".into();
        v["use"] = "sig".into();
        v
    }
    /// SubjectPublicKeyInfo PEM (what OB 2.0 `CryptographicKey.publicKeyPem` publishes).
    pub fn public_pem(&self) -> Result<String, KeyError> {
        Ok(self.public_pem.clone())
    }
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKey")
            .field("kid", &self.kid)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// All keys of one issuer.
#[derive(Debug, Clone)]
pub struct IssuerKeys {
    pub slug: String,
    pub ed25519: Vec<Ed25519Key>,
    pub rsa: Vec<RsaKey>,
}

impl IssuerKeys {
    /// The Ed25519 key that signs new credentials.
    pub fn active_ed25519(&self) -> &Ed25519Key {
        self.ed25519
            .iter()
            .rev()
            .find(|k| k.active)
            .expect("load_or_create guarantees an active Ed25519 key")
    }
    /// The RSA key `kid`, active or retired.
    pub fn rsa(&self, kid: &str) -> Option<&RsaKey> {
        self.rsa.iter().find(|k| k.kid == kid)
    }
    /// The RSA key that signs new VC-JWTs.
    pub fn active_rsa(&self) -> &RsaKey {
        self.rsa
            .iter()
            .rev()
            .find(|k| k.active)
            .expect("load_or_create guarantees an active RSA key")
    }
}

const GITIGNORE: &str =
    "# Private keys live here: never commit them.\n*\n!.gitignore\n!README.md\n";

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io(path))
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), KeyError> {
    let path = dir.join("manifest.json");
    let tmp = dir.join("manifest.json.tmp");
    let _ = fs::remove_file(&tmp);
    let json = serde_json::to_vec_pretty(manifest).expect("manifest serializes");
    write_private(&tmp, &json)?;
    fs::rename(&tmp, &path).map_err(io(&path))
}

fn check_private(path: &Path) -> Result<(), KeyError> {
    let mode = fs::metadata(path).map_err(io(path))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

fn ensure_dir(path: &Path) -> Result<(), KeyError> {
    if !path.exists() {
        fs::create_dir_all(path).map_err(io(path))?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(io(path))?;
    }
    Ok(())
}

fn next_kid(manifest: &Manifest, alg: KeyAlg) -> String {
    let prefix = match alg {
        KeyAlg::Ed25519 => "ed25519",
        KeyAlg::Rsa => "rsa",
    };
    let n = manifest.keys.iter().filter(|k| k.alg == alg).count() + 1;
    format!("{prefix}-{n}")
}

/// The private bytes of a new key: an Ed25519 seed as hex, an RSA-2048 key as PKCS#8 PEM (the
/// forms of the key files).
fn new_private(alg: KeyAlg) -> Result<Vec<u8>, KeyError> {
    Ok(match alg {
        KeyAlg::Ed25519 => {
            let mut seed = [0u8; 32];
            getrandom::getrandom(&mut seed).map_err(|e| KeyError::Generate(e.to_string()))?;
            format!("{}\n", crate::hex::hex(&seed)).into_bytes()
        }
        KeyAlg::Rsa => RS256
            .generate_key_pair(2048)
            .map_err(|e| KeyError::Generate(e.to_string()))?
            .to_pem_private_key(),
    })
}

fn generate(dir: &Path, manifest: &mut Manifest, alg: KeyAlg) -> Result<String, KeyError> {
    let kid = next_kid(manifest, alg);
    let file = format!("{kid}.key");
    write_private(&dir.join(&file), &new_private(alg)?)?;
    for k in manifest.keys.iter_mut().filter(|k| k.alg == alg) {
        k.status = "retired".into();
    }
    manifest.keys.push(ManifestEntry {
        kid: kid.clone(),
        alg,
        created: Utc::now(),
        status: "active".into(),
        file,
    });
    Ok(kid)
}

fn read_manifest(dir: &Path) -> Result<Manifest, KeyError> {
    let path = dir.join("manifest.json");
    if !path.exists() {
        return Ok(Manifest::default());
    }
    let raw = fs::read(&path).map_err(io(&path))?;
    serde_json::from_slice(&raw).map_err(|e| KeyError::Corrupt {
        path,
        problem: e.to_string(),
    })
}

/// Loads the issuer's keys from `keys_dir/<slug>/`, generating the missing ones (first start).
pub fn load_or_create(keys_dir: &Path, slug: &str) -> Result<IssuerKeys, KeyError> {
    ensure_dir(keys_dir)?;
    let gitignore = keys_dir.join(".gitignore");
    if !gitignore.exists() {
        fs::write(&gitignore, GITIGNORE).map_err(io(&gitignore))?;
    }
    let dir = keys_dir.join(slug);
    ensure_dir(&dir)?;
    let mut manifest = read_manifest(&dir)?;
    let mut changed = false;
    for alg in [KeyAlg::Ed25519, KeyAlg::Rsa] {
        if !manifest
            .keys
            .iter()
            .any(|k| k.alg == alg && k.status == "active")
        {
            let kid = generate(&dir, &mut manifest, alg)?;
            tracing::info!(issuer = slug, kid = %kid, "generated a new {alg:?} key");
            changed = true;
        }
    }
    if changed {
        write_manifest(&dir, &manifest)?;
    }
    load(&dir, slug, &manifest)
}

/// Adds a new active key of each algorithm; older keys are retired but stay published.
pub fn rotate(keys_dir: &Path, slug: &str) -> Result<IssuerKeys, KeyError> {
    load_or_create(keys_dir, slug)?;
    let dir = keys_dir.join(slug);
    let mut manifest = read_manifest(&dir)?;
    for alg in [KeyAlg::Ed25519, KeyAlg::Rsa] {
        let kid = generate(&dir, &mut manifest, alg)?;
        tracing::info!(issuer = slug, kid = %kid, "rotated: new active {alg:?} key");
    }
    write_manifest(&dir, &manifest)?;
    load(&dir, slug, &manifest)
}

fn load(dir: &Path, slug: &str, manifest: &Manifest) -> Result<IssuerKeys, KeyError> {
    let material = read_material(dir, manifest)?;
    from_material(slug, &material).map_err(|(kid, problem)| KeyError::Corrupt {
        path: dir.join(
            manifest
                .keys
                .iter()
                .find(|k| k.kid == kid)
                .map_or(kid.as_str(), |k| k.file.as_str()),
        ),
        problem,
    })
}

fn read_material(dir: &Path, manifest: &Manifest) -> Result<Vec<KeyMaterial>, KeyError> {
    let mut out = Vec::with_capacity(manifest.keys.len());
    for entry in &manifest.keys {
        let path = dir.join(&entry.file);
        if entry.file.contains('/') || entry.file.starts_with('.') {
            return Err(KeyError::Corrupt {
                path,
                problem: "key file names must be plain names".into(),
            });
        }
        check_private(&path)?;
        out.push(KeyMaterial {
            kid: entry.kid.clone(),
            alg: entry.alg,
            created: entry.created,
            active: entry.status == "active",
            private: fs::read(&path).map_err(io(&path))?,
        });
    }
    Ok(out)
}

/// The keys of an issuer's key files (`keys_dir/<slug>/`, as carnet wrote them before keys
/// were kept in the database), to be imported; none when the folder has no manifest.
pub fn material_in_dir(keys_dir: &Path, slug: &str) -> Result<Vec<KeyMaterial>, KeyError> {
    let dir = keys_dir.join(slug);
    if !dir.join("manifest.json").exists() {
        return Ok(Vec::new());
    }
    read_material(&dir, &read_manifest(&dir)?)
}

/// New active keys, one per algorithm, numbered after the `existing` ones (none: the first
/// keys of an institution; some: a rotation).
pub fn new_material(existing: &[KeyMaterial]) -> Result<Vec<KeyMaterial>, KeyError> {
    let mut out = Vec::with_capacity(2);
    for (alg, prefix) in [(KeyAlg::Ed25519, "ed25519"), (KeyAlg::Rsa, "rsa")] {
        let mut n = existing.iter().filter(|k| k.alg == alg).count() + 1;
        while existing.iter().any(|k| k.kid == format!("{prefix}-{n}")) {
            n += 1;
        }
        out.push(KeyMaterial {
            kid: format!("{prefix}-{n}"),
            alg,
            created: Utc::now(),
            active: true,
            private: new_private(alg)?,
        });
    }
    Ok(out)
}

/// An issuer's key ring from its keys' private bytes; the error names the key and the problem.
pub fn from_material(slug: &str, material: &[KeyMaterial]) -> Result<IssuerKeys, (String, String)> {
    let mut keys = IssuerKeys {
        slug: slug.to_string(),
        ed25519: vec![],
        rsa: vec![],
    };
    for m in material {
        let corrupt = |problem: String| (m.kid.clone(), problem);
        match m.alg {
            KeyAlg::Ed25519 => {
                let text = String::from_utf8_lossy(&m.private);
                let hex = text.trim();
                if hex.len() != 64 {
                    return Err(corrupt("expected 64 hexadecimal characters".into()));
                }
                let mut seed = [0u8; 32];
                for (i, b) in seed.iter_mut().enumerate() {
                    *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                        .map_err(|e| corrupt(e.to_string()))?;
                }
                keys.ed25519.push(Ed25519Key {
                    kid: m.kid.clone(),
                    created: m.created,
                    active: m.active,
                    signing: SigningKey::from_bytes(&seed),
                });
            }
            KeyAlg::Rsa => {
                let pair = RS256
                    .key_pair_from_pem(&m.private)
                    .map_err(|e| corrupt(e.to_string()))?;
                let signer = RS256
                    .signer_from_pem(&m.private)
                    .map_err(|e| corrupt(e.to_string()))?;
                keys.rsa.push(RsaKey {
                    kid: m.kid.clone(),
                    created: m.created,
                    active: m.active,
                    signer: Arc::new(signer),
                    public_pem: String::from_utf8_lossy(&pair.to_pem_public_key()).into_owned(),
                    public_jwk: pair.to_jwk_public_key(),
                });
            }
        }
    }
    if !keys.ed25519.iter().any(|k| k.active) || !keys.rsa.iter().any(|k| k.active) {
        return Err((
            slug.to_owned(),
            "an issuer needs an active Ed25519 key and an active RSA key".into(),
        ));
    }
    Ok(keys)
}

/// One key's private part and what describes it: what a key file holds, and what is sealed
/// into the database under the [`InstanceKey`]. Its `Debug` never shows the private part.
#[derive(Clone)]
pub struct KeyMaterial {
    pub kid: String,
    pub alg: KeyAlg,
    pub created: DateTime<Utc>,
    pub active: bool,
    private: Vec<u8>,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl KeyAlg {
    /// As stored: `ed25519` or `rsa`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::Ed25519 => "ed25519",
            KeyAlg::Rsa => "rsa",
        }
    }

    pub fn parse(text: &str) -> Option<KeyAlg> {
        match text {
            "ed25519" => Some(KeyAlg::Ed25519),
            "rsa" => Some(KeyAlg::Rsa),
            _ => None,
        }
    }
}

/// The instance key: 256 bits under which every institution's private keys are sealed in the
/// database (compact JWE, `dir` + `A256GCM`). It is given to every node by file
/// (`CARNET_INSTANCE_KEY_FILE`, made on the first start) or by `CARNET_INSTANCE_KEY`, and never
/// stored in the database. Its `Debug` shows its id only.
#[derive(Clone)]
pub struct InstanceKey {
    id: String,
    key: [u8; 32],
}

impl fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What a sealed key holds: the row it belongs to, so that a sealed key moved to another
/// institution's row or another kid does not open.
#[derive(Serialize, Deserialize)]
struct SealedKey {
    issuer: String,
    kid: String,
    alg: KeyAlg,
    private: String,
}

const SEAL_ENC: &str = "A256GCM";

/// The instance key a sealed key names in its (unprotected by secrecy) JWE header.
fn sealed_under(sealed: &str) -> Option<String> {
    use base64::Engine;
    let header = sealed.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(value.get("kid")?.as_str()?.chars().take(40).collect())
}

impl InstanceKey {
    /// From 64 hexadecimal digits (a file's content or `CARNET_INSTANCE_KEY`).
    pub fn from_text(text: &str) -> Result<InstanceKey, String> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("an instance key is 64 hexadecimal digits (256 bits)".into());
        }
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
        }
        let digest = sha2::Sha256::digest([b"carnet instance key\0".as_slice(), &key].concat());
        Ok(InstanceKey {
            id: format!("instance-{}", &crate::hex::hex(&digest)[..12]),
            key,
        })
    }

    /// Reads the key file (owner-only), `None` when there is none.
    pub fn read_file(path: &Path) -> Result<Option<InstanceKey>, KeyError> {
        if !path.exists() {
            return Ok(None);
        }
        check_private(path)?;
        let text = fs::read_to_string(path).map_err(io(path))?;
        InstanceKey::from_text(&text)
            .map(Some)
            .map_err(|problem| KeyError::Corrupt {
                path: path.to_path_buf(),
                problem,
            })
    }

    /// Makes a new key and writes it (0600, its folder 0700, never overwriting a file).
    pub fn create_file(path: &Path) -> Result<InstanceKey, KeyError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            ensure_dir(dir)?;
        }
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key).map_err(|e| KeyError::Generate(e.to_string()))?;
        let text = format!("{}\n", crate::hex::hex(&key));
        write_private(path, text.as_bytes())?;
        InstanceKey::from_text(&text).map_err(KeyError::Generate)
    }

    /// Names the key without revealing it (a truncated hash), so that a node given another
    /// key says which one it lacks.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals one of `issuer`'s keys.
    pub fn seal(&self, issuer: &str, material: &KeyMaterial) -> Result<String, KeyError> {
        let plain = SealedKey {
            issuer: issuer.to_owned(),
            kid: material.kid.clone(),
            alg: material.alg,
            private: String::from_utf8(material.private.clone())
                .map_err(|_| KeyError::Generate("a private key is text (hex or PEM)".into()))?,
        };
        let mut header = josekit::jwe::JweHeader::new();
        header.set_content_encryption(SEAL_ENC);
        header.set_key_id(self.id.clone());
        let encrypter = josekit::jwe::Dir
            .encrypter_from_bytes(self.key)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        let json = serde_json::to_vec(&plain).map_err(|e| KeyError::Generate(e.to_string()))?;
        josekit::jwe::serialize_compact(&json, &header, &encrypter)
            .map_err(|e| KeyError::Generate(e.to_string()))
    }

    /// Opens a key sealed by [`InstanceKey::seal`] for this `issuer` and `kid`.
    pub fn open(
        &self,
        issuer: &str,
        kid: &str,
        created: DateTime<Utc>,
        active: bool,
        sealed: &str,
    ) -> Result<KeyMaterial, KeyError> {
        let refuse = |problem: String| KeyError::Sealed {
            issuer: issuer.to_owned(),
            kid: kid.to_owned(),
            problem,
        };
        let decrypter = josekit::jwe::Dir
            .decrypter_from_bytes(self.key)
            .map_err(|e| refuse(e.to_string()))?;
        let (json, header) = josekit::jwe::deserialize_compact(sealed, &decrypter).map_err(|_| {
            refuse(format!(
                "it was sealed under the instance key {}, and this node has {}: give every node the same CARNET_INSTANCE_KEY_FILE or CARNET_INSTANCE_KEY",
                sealed_under(sealed).unwrap_or_else(|| "another one".into()),
                self.id
            ))
        })?;
        if header.content_encryption() != Some(SEAL_ENC) {
            return Err(refuse("it is sealed in an unexpected way".into()));
        }
        let plain: SealedKey =
            serde_json::from_slice(&json).map_err(|e| refuse(format!("unreadable: {e}")))?;
        if plain.issuer != issuer || plain.kid != kid {
            return Err(refuse(
                "it was sealed for another institution or key".into(),
            ));
        }
        Ok(KeyMaterial {
            kid: plain.kid,
            alg: plain.alg,
            created,
            active,
            private: plain.private.into_bytes(),
        })
    }
}

/// RFC 3339 with seconds and `Z`, the form used in every published date.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_start_generates_private_files_and_rotation_keeps_old_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let keys = load_or_create(tmp.path(), "ime").unwrap();
        assert_eq!((keys.ed25519.len(), keys.rsa.len()), (1, 1));
        for entry in fs::read_dir(tmp.path().join("ime")).unwrap() {
            let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(
            fs::read_to_string(tmp.path().join(".gitignore"))
                .unwrap()
                .contains('*')
        );
        // A second start loads the same keys.
        let again = load_or_create(tmp.path(), "ime").unwrap();
        assert_eq!(
            again.active_ed25519().verifying_key(),
            keys.active_ed25519().verifying_key()
        );
        let rotated = rotate(tmp.path(), "ime").unwrap();
        assert_eq!(rotated.ed25519.len(), 2);
        assert_eq!(rotated.active_ed25519().kid, "ed25519-2");
        assert!(!rotated.ed25519[0].active);
        assert_eq!(
            rotated.ed25519[0].verifying_key(),
            keys.active_ed25519().verifying_key()
        );
    }

    #[test]
    fn debug_never_prints_secrets_and_jwk_has_no_private_part() {
        let tmp = tempfile::tempdir().unwrap();
        let keys = load_or_create(tmp.path(), "ime").unwrap();
        let dbg = format!("{keys:?}");
        let seed: String = keys
            .active_ed25519()
            .signing_key()
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(!dbg.contains(&seed));
        assert!(!dbg.contains("PRIVATE"));
        let jwk = keys.active_rsa().public_jwk();
        assert!(jwk.get("d").is_none() && jwk.get("p").is_none());
        assert_eq!(jwk["kty"], "RSA");
    }

    #[test]
    fn refuses_keys_readable_by_others() {
        let tmp = tempfile::tempdir().unwrap();
        load_or_create(tmp.path(), "ime").unwrap();
        let f = tmp.path().join("ime/ed25519-1.key");
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create(tmp.path(), "ime").unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
    }
}
