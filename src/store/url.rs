//! Database URLs: which backend, and a form that is safe to log (the password masked).

use std::fmt;
use std::str::FromStr;

use super::url_scheme;

/// A database URL that may hold a password: `Debug` and `Display` show it as `***`.
/// Use [`DatabaseUrl::expose`] only to connect.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        DatabaseUrl(url.into())
    }

    /// The URL with its password, for the driver only: never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `sqlite`, `postgres`, ... as written.
    pub fn scheme(&self) -> &str {
        url_scheme(&self.0)
    }

    /// The URL with the password of `user:password@` and of a `password=` parameter
    /// replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

fn redact(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let tail = match url.split_once("://") {
        Some((scheme, rest)) => {
            out.push_str(scheme);
            out.push_str("://");
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(end);
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    match userinfo.split_once(':') {
                        Some((user, _password)) => {
                            out.push_str(user);
                            out.push_str(":***");
                        }
                        None => out.push_str(userinfo),
                    }
                    out.push('@');
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            tail
        }
        None => url,
    };
    match tail.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        out.push_str(key);
                        out.push_str("=***");
                    }
                    _ => out.push_str(pair),
                }
            }
        }
        None => out.push_str(tail),
    }
    out
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&self.redacted())
            .finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(DatabaseUrl::new(url))
    }
}

impl From<String> for DatabaseUrl {
    fn from(url: String) -> Self {
        DatabaseUrl(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::url_scheme;

    #[test]
    fn database_url_hides_the_password_in_debug_and_display() {
        let url = DatabaseUrl::new("postgres://carnet:s3cret@db.example:5432/carnet");
        assert_eq!(
            url.to_string(),
            "postgres://carnet:***@db.example:5432/carnet"
        );
        let debug = format!("{url:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("carnet:***@db.example"), "{debug}");
        assert_eq!(
            url.expose(),
            "postgres://carnet:s3cret@db.example:5432/carnet"
        );
        assert_eq!(url.scheme(), "postgres");
    }

    #[test]
    fn database_url_hides_a_password_parameter_and_an_at_sign_in_the_password() {
        let url = DatabaseUrl::new("postgresql://u:p@ss@h/db?sslmode=require&password=x&a=b");
        assert_eq!(
            url.to_string(),
            "postgresql://u:***@h/db?sslmode=require&password=***&a=b"
        );
    }

    #[test]
    fn database_url_without_password_is_shown_as_is() {
        for url in [
            "sqlite://data/carnet.db",
            "sqlite:carnet.db?mode=rwc",
            "sqlite::memory:",
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://localhost/db?options=-c%20search_path%3Dx",
        ] {
            assert_eq!(DatabaseUrl::new(url).to_string(), url);
        }
    }

    #[test]
    fn url_scheme_is_the_part_before_the_first_colon() {
        assert_eq!(url_scheme("mysql://x"), "mysql");
        assert_eq!(url_scheme("sqlite::memory:"), "sqlite");
        assert_eq!(url_scheme("carnet.db"), "carnet.db");
    }
}
