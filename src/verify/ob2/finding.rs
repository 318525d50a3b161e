//! A finding about one property, before it becomes a report [`Check`] with the id the caller picks
//! (conformance of the assertion, of an endorsement, of the context...).

use crate::verify::report::{Check, Message, Status};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub status: Status,
    /// Path of the property (`badge.issuer.email`); empty for the node itself.
    pub path: String,
    pub fr: String,
    pub en: String,
}

impl Finding {
    pub fn new(
        status: Status,
        path: impl Into<String>,
        fr: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            status,
            path: path.into(),
            fr: fr.into(),
            en: en.into(),
        }
    }

    pub fn fail(path: impl Into<String>, fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(Status::Fail, path, fr, en)
    }

    pub fn warn(path: impl Into<String>, fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(Status::Warn, path, fr, en)
    }

    /// The finding, for a property of the node found at `prefix`.
    pub fn under(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.path = if self.path.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}.{}", self.path)
            };
        }
        self
    }

    pub fn into_check(self, id: &'static str) -> Check {
        let check = Check::new(id, self.status, Message::new(self.fr, self.en));
        if self.path.is_empty() {
            check
        } else {
            check.at(self.path)
        }
    }
}

/// Joins a path prefix and a property name.
pub fn join(prefix: &str, prop: &str) -> String {
    if prefix.is_empty() {
        prop.to_string()
    } else {
        format!("{prefix}.{prop}")
    }
}
