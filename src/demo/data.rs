//! The demo's people and stories. Everything here is invented: the names are first names with
//! « (fictif) », the emails are at `example.org` (a domain reserved for examples, RFC 2606), the
//! jury members and educators do not exist.
//!
//! Two educators, five learners (Inès, Yanis, Lina, Noah, Jade) with their carnets, badge
//! requests, awards and endorsements.

use serde_json::{Value, json};

/// The two educators. There are no user accounts yet: an educator is the name recorded on the
/// awards they issue and the request steps they take.
pub const EDUCATORS: [&str; 2] = [
    "Camille Rivière (éducatrice technique, fictive)",
    "Karim Benali (éducateur, fictif)",
];

pub struct Learner {
    /// Also the key of their demo items (`demo:award:{key}-…`, their request's link).
    pub key: &'static str,
    /// Published in their badges and shown in lists.
    pub name: &'static str,
    pub email: &'static str,
}

pub const LEARNERS: [Learner; 5] = [
    Learner {
        key: "ines",
        name: "Inès (fictive)",
        email: "ines.demo@example.org",
    },
    Learner {
        key: "yanis",
        name: "Yanis (fictif)",
        email: "yanis.demo@example.org",
    },
    Learner {
        key: "lina",
        name: "Lina (fictive)",
        email: "lina.demo@example.org",
    },
    Learner {
        key: "noah",
        name: "Noah (fictif)",
        email: "noah.demo@example.org",
    },
    Learner {
        key: "jade",
        name: "Jade (fictive)",
        email: "jade.demo@example.org",
    },
];

/// The class requested with evidence (no award rules: it is given on request).
pub const REQUEST_CLASS: &str = "securite-hygiene-au-travail";
/// The class a RECTEC carnet earns (competence 1 at cercle 2, « je fais », validated).
pub const CARNET_CLASS: &str = "organiser-mon-activite-en-cuisine";

/// A fictional RAE jury.
fn jury() -> Value {
    json!([
        {"name": "Mme Morel", "role": "professionnelle de la restauration (fictive)"},
        {"name": "M. Garnier", "role": "directeur d'établissement (fictif)"},
        "Mme Lefèvre (encadrante formée à la RAE, autre établissement, fictive)"
    ])
}

/// A carnet entry validated by the jury.
fn validated(competence: &str, answer: &str, level: &str, modality: &str) -> Value {
    json!({
        "competence": competence, "answer": answer, "recognition": "validated",
        "level": level, "modality": modality, "date": "2025-06-12", "jury": jury(),
    })
}

/// A carnet entry the person declared.
fn declared(competence: &str, answer: &str, level: Option<&str>) -> Value {
    let mut e = json!({"competence": competence, "answer": answer, "date": "2025-05-20"});
    if let Some(level) = level {
        e["level"] = level.into();
    }
    e
}

/// A carnet of the demo: whose, on which référentiel, its entries, and who confirms the award it
/// earns (`None`: left for the newcomer to confirm).
pub struct DemoCarnet {
    pub learner: usize,
    pub referentiel: (&'static str, &'static str),
    pub entries: Vec<Value>,
    pub confirmed_by: Option<usize>,
    /// What it shows, for the tour.
    pub shows: &'static str,
}

pub const RECTEC: (&str, &str) = ("rectec", "2021");
pub const CUISINE: (&str, &str) = ("demo-atelier-cuisine", "demo-1");

pub fn carnets() -> Vec<DemoCarnet> {
    vec![
        DemoCarnet {
            learner: 3,
            referentiel: RECTEC,
            entries: vec![
                validated("1", "je_fais", "2", "en_situation_de_travail"),
                declared("3", "je_fais", Some("2")),
                declared("5", "je_fais_en_partie", None),
                declared("6", "je_ne_fais_pas", None),
            ],
            confirmed_by: Some(0),
            shows: "je fais, validé par un jury au cercle 2 : le badge est gagné et confirmé",
        },
        DemoCarnet {
            learner: 0,
            referentiel: RECTEC,
            entries: vec![
                validated("1", "je_fais", "3", "externe"),
                validated("2", "je_fais", "2", "en_situation_de_travail"),
                declared("8", "je_fais_en_partie", None),
            ],
            confirmed_by: None,
            shows: "je fais, validé au cercle 3 : le badge est gagné, à confirmer",
        },
        DemoCarnet {
            learner: 2,
            referentiel: RECTEC,
            entries: vec![
                validated("1", "je_fais_en_partie", "2", "externe_avec_stage"),
                declared("7", "je_fais", None),
            ],
            confirmed_by: None,
            shows: "je fais en partie (validé) : pas encore le badge, « en partie » reste « en partie »",
        },
        DemoCarnet {
            learner: 1,
            referentiel: RECTEC,
            entries: vec![
                declared("1", "je_fais", Some("2")),
                declared("10", "je_fais_en_partie", None),
            ],
            confirmed_by: None,
            shows: "je fais, déclaré sans jury : pas encore le badge (il demande une validation)",
        },
        DemoCarnet {
            learner: 4,
            referentiel: RECTEC,
            entries: vec![
                validated("1", "je_fais", "1", "en_situation_de_travail"),
                declared("5", "je_fais", Some("1")),
            ],
            confirmed_by: None,
            shows: "je fais, validé au cercle 1 : pas encore le badge (cercle 2 demandé)",
        },
        DemoCarnet {
            learner: 2,
            referentiel: CUISINE,
            entries: vec![
                json!({"competence": "P1", "answer": "je_fais_en_partie", "struck": ["materiel"],
                       "date": "2025-05-20", "comment": "Je mets ma tenue ; le matériel, on me le prépare encore."}),
                json!({"competence": "P2", "answer": "je_fais_en_partie", "struck": ["eplucher"],
                       "level": "1", "date": "2025-05-20"}),
                declared("S1", "je_fais", Some("2")),
            ],
            confirmed_by: None,
            shows: "parties barrées (« préparer son matériel », « éplucher les légumes ») sur un référentiel fictif",
        },
    ]
}

/// One step of a badge request after it is submitted; each writes one event in its history.
/// (Noah's request is approved in the part « endorsements », after its endorsement.)
pub enum Step {
    /// A small PNG made in the demo (its colour makes each file different).
    Evidence {
        name: &'static str,
        colour: [u8; 3],
    },
    Return {
        by: usize,
        comment: &'static str,
    },
    Resubmit {
        by: usize,
        comment: &'static str,
    },
    Approve {
        by: usize,
    },
    Decline {
        by: usize,
        reason: &'static str,
    },
}

pub struct DemoRequest {
    pub learner: usize,
    /// The educator who sends it (the API token it goes through).
    pub sent_by: usize,
    pub requested_by: &'static str,
    pub narrative: &'static str,
    /// Its link, under `https://example.org/carnet-demo/`: also how the demo finds it again.
    pub link: &'static str,
    pub steps: Vec<Step>,
    /// The state it ends in, for the tour.
    pub shows: &'static str,
}

pub const LINK_PREFIX: &str = "https://example.org/carnet-demo/";

pub fn requests() -> Vec<DemoRequest> {
    vec![
        DemoRequest {
            learner: 0,
            sent_by: 0,
            requested_by: "Inès (fictive)",
            narrative: "Je mets mes gants et mes lunettes avant d'utiliser la trancheuse. Je me lave les mains en arrivant à l'atelier.",
            link: "https://example.org/carnet-demo/ines/video-gants",
            steps: vec![Step::Evidence {
                name: "ines-gants.png",
                colour: [0x1b, 0x7f, 0x4a],
            }],
            shows: "submitted: waiting for an educator",
        },
        DemoRequest {
            learner: 1,
            sent_by: 1,
            requested_by: "Karim Benali (éducateur, fictif), pour Yanis",
            narrative: "Yanis range les produits d'entretien dans l'armoire fermée et met ses gants pour les utiliser.",
            link: "https://example.org/carnet-demo/yanis/armoire",
            steps: vec![
                Step::Evidence {
                    name: "yanis-armoire.png",
                    colour: [0x2a, 0x5d, 0xb0],
                },
                Step::Return {
                    by: 0,
                    comment: "Merci Yanis ! Ajoute une photo de l'armoire fermée et dis-nous quels pictogrammes tu reconnais, puis renvoie ta demande.",
                },
            ],
            shows: "returned for revision, with a comment",
        },
        DemoRequest {
            learner: 2,
            sent_by: 1,
            requested_by: "Lina (fictive)",
            narrative: "Je sais quels produits ne pas mélanger. J'ai fait une affiche sur le lavage des mains.",
            link: "https://example.org/carnet-demo/lina/affiche",
            steps: vec![
                Step::Evidence {
                    name: "lina-produits.png",
                    colour: [0xb0, 0x3a, 0x2e],
                },
                Step::Return {
                    by: 1,
                    comment: "Il manque la preuve sur le lavage des mains : ajoute la photo de ton affiche.",
                },
                Step::Evidence {
                    name: "lina-affiche.png",
                    colour: [0xe0, 0xa8, 0x00],
                },
                Step::Resubmit {
                    by: 1,
                    comment: "J'ai ajouté la photo de mon affiche.",
                },
            ],
            shows: "returned, completed and resubmitted: waiting again",
        },
        DemoRequest {
            learner: 3,
            sent_by: 0,
            requested_by: "Noah (fictif)",
            narrative: "Je porte mes chaussures de sécurité. Je connais les panneaux de l'atelier et je range mon poste.",
            link: "https://example.org/carnet-demo/noah/poste-range",
            steps: vec![Step::Evidence {
                name: "noah-poste.png",
                colour: [0x6a, 0x3d, 0x9a],
            }],
            // approved in the part « endorsements », once an educator has endorsed it
            shows: "endorsed by an educator, then approved: see « endorsements »",
        },
        DemoRequest {
            learner: 4,
            sent_by: 1,
            requested_by: "Jade (fictive)",
            narrative: "Je veux le badge sécurité.",
            link: "https://example.org/carnet-demo/jade/demande",
            steps: vec![
                Step::Evidence {
                    name: "jade-atelier.png",
                    colour: [0x44, 0x44, 0x44],
                },
                Step::Decline {
                    by: 1,
                    reason: "Tu viens d'arriver à l'atelier : nous referons la demande ensemble quand tu auras montré les gestes de sécurité pendant quelques semaines.",
                },
            ],
            shows: "declined, with a reason",
        },
    ]
}

/// An award the demo issues directly (with its `demo:` idempotency key), and what happens to it.
pub struct DemoAward {
    pub key: &'static str,
    pub learner: usize,
    pub issued_by: usize,
    pub narrative: &'static str,
    /// Revoked by the same educator, with this reason.
    pub revoked: Option<&'static str>,
    /// Valid this many seconds only.
    pub valid_seconds: Option<i64>,
    pub shows: &'static str,
    /// Its state in one word or two, for the tour's list of badges.
    pub state: &'static str,
}

pub fn awards() -> Vec<DemoAward> {
    vec![
        DemoAward {
            key: "demo:award:yanis-revoked",
            learner: 1,
            issued_by: 1,
            narrative: "Yanis range les produits d'entretien dans l'armoire fermée.",
            revoked: Some(
                "Délivré par erreur avant la fin de la demande de badge (exemple fictif).",
            ),
            valid_seconds: None,
            shows: "revoked (every verifier sees it withdrawn)",
            state: "revoked",
        },
        DemoAward {
            key: "demo:award:jade-one-minute",
            learner: 4,
            issued_by: 0,
            narrative: "Badge d'essai de la démonstration, valable une minute : il montre un badge expiré.",
            revoked: None,
            valid_seconds: Some(60),
            shows: "valid for one minute, then expired",
            state: "expired after one minute",
        },
    ]
}

/// What a fictional endorser writes on the page their link opens.
pub struct DemoEndorser {
    pub name: &'static str,
    pub role: &'static str,
    pub organisation: Option<&'static str>,
    pub recommendation: &'static str,
}

/// What an invitation of the demo is about.
pub enum EndorsementTarget {
    /// The award a learner's RECTEC carnet earned (confirmed in the part « carnets »).
    CarnetAward { learner: usize },
    /// A learner's badge request, found by its demo link.
    Request { link: &'static str },
}

/// An invitation the demo sends, and what happens to it.
pub struct DemoEndorsement {
    pub target: EndorsementTarget,
    /// The educator who invites (the API token it goes through).
    pub invited_by: usize,
    /// `tutor`, `colleague`, `educator` or `partner`.
    pub kind: &'static str,
    /// The educator's note to the endorser; also how the demo finds its invitation again.
    pub note: &'static str,
    /// Who answers the link; `None`: the link is left open for the newcomer to try.
    pub endorser: Option<DemoEndorser>,
    /// The request is approved by this educator once endorsed (its award carries it).
    pub approved_by: Option<usize>,
    /// What it shows, for the tour.
    pub shows: &'static str,
}

pub fn endorsements() -> Vec<DemoEndorsement> {
    vec![
        DemoEndorsement {
            target: EndorsementTarget::CarnetAward { learner: 3 },
            invited_by: 0,
            kind: "tutor",
            note: "Bonjour Sophie. Noah a reçu ce badge. Pouvez-vous dire ce qu'il fait en cuisine pendant son stage ? (démonstration)",
            endorser: Some(DemoEndorser {
                name: "Sophie Martin (fictive)",
                role: "Tutrice de stage",
                organisation: Some("Restaurant Le Bon Goût (fictif)"),
                recommendation: "Noah prépare son poste avant le service.\nIl suit la fiche recette.\nIl range et nettoie son plan de travail sans qu'on le lui demande.",
            }),
            approved_by: None,
            shows: "a company tutor endorses an issued award: it is signed again and carries the endorsement",
        },
        DemoEndorsement {
            target: EndorsementTarget::Request {
                link: "https://example.org/carnet-demo/noah/poste-range",
            },
            invited_by: 0,
            kind: "educator",
            note: "Bonjour Thomas. Noah demande le badge sécurité. Vous l'avez vu à l'atelier : pouvez-vous en parler ? (démonstration)",
            endorser: Some(DemoEndorser {
                name: "Thomas Leroy (fictif)",
                role: "Éducateur technique",
                organisation: Some("ESAT Les Ateliers du Parc (fictif)"),
                recommendation: "Pendant sa semaine à l'ESAT, Noah a porté ses chaussures de sécurité tous les jours.\nIl connaît les panneaux de l'atelier.",
            }),
            approved_by: Some(0),
            shows: "an educator endorses a badge request, then it is approved: the award carries the endorsement",
        },
        DemoEndorsement {
            target: EndorsementTarget::Request {
                link: "https://example.org/carnet-demo/ines/video-gants",
            },
            invited_by: 1,
            kind: "tutor",
            note: "Bonjour. Inès demande le badge sécurité. Écrivez ce que vous l'avez vue faire en stage. (démonstration : essayez ce lien)",
            endorser: None,
            approved_by: None,
            shows: "an invitation left open: open its link and endorse Inès's request yourself",
        },
    ]
}
