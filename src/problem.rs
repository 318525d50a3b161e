//! What kind of failure an error is, said once by the error type itself, so that whoever
//! answers a client (the HTTP layer: a status and RFC 9457 problem JSON) maps every variant
//! the same way, with no mapping of its own. This module depends on nothing, so every layer
//! may use it.
//!
//! A [`Kind`] (not found, gone, conflict, wrong state, invalid field, unavailable, internal) is
//! said by each error type next to its definition (`impl Problem for StoreError`, `IssueError`,
//! `BulkError`, `FlowError`, `ConfirmError`, `OwnError`, `Ob2Error`); a variant that only wraps
//! another error hands over to it ([`Problem::transparent`], [`innermost`]). The HTTP layer turns
//! any `Problem` into a status in one `From` (`crate::http`, issue #13 §5): no handler maps
//! errors itself.

/// The kinds of failure a client can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The thing named does not exist (or is not this client's to see): 404.
    NotFound,
    /// It existed and is gone for good: 410.
    Gone,
    /// It clashes with what is stored (a duplicate, a concurrent change): 409.
    Conflict,
    /// The thing is not in a state that allows this action now: 409.
    WrongState,
    /// A value given is wrong (`field` says which): 422.
    Invalid,
    /// A dependency is busy or down; trying again later may work: 503.
    Unavailable,
    /// carnet's own fault (a bug, corrupt data, a misconfiguration): 500, logged, never detailed.
    Internal,
}

impl Kind {
    /// The code of `urn:carnet:error:{code}` when the error has no more precise one.
    pub fn code(self) -> &'static str {
        match self {
            Kind::NotFound => "not_found",
            Kind::Gone => "gone",
            Kind::Conflict => "conflict",
            Kind::WrongState => "wrong_state",
            Kind::Invalid => "invalid_field",
            Kind::Unavailable => "unavailable",
            Kind::Internal => "internal",
        }
    }
}

/// An error that says what kind of failure it is. Implemented next to each error type.
pub trait Problem: std::error::Error {
    fn kind(&self) -> Kind;

    /// The stable code of `urn:carnet:error:{code}`.
    fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The input at fault, for [`Kind::Invalid`] (a JSON field, `(body)` for the whole body).
    fn field(&self) -> Option<&str> {
        None
    }

    /// What the client reads (never sent for [`Kind::Internal`]).
    fn detail(&self) -> String {
        self.to_string()
    }

    /// More members of the problem document (e.g. the reasons a carnet does not earn a class).
    fn members(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    /// The error this one only wraps (a `#[error(transparent)]` variant), which then says
    /// everything: see [`innermost`].
    fn transparent(&self) -> Option<&dyn Problem> {
        None
    }
}

/// The error that says what the failure is: `error` itself, or what it transparently wraps.
pub fn innermost(error: &dyn Problem) -> &dyn Problem {
    let mut problem = error;
    while let Some(inner) = problem.transparent() {
        problem = inner;
    }
    problem
}
