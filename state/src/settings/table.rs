//! The option table: every session-state option's name, type, range and meaning, and the one
//! text form (`Settings::set`/`Settings::get`) through which web.config attributes, Django
//! settings, Python keywords, .NET properties, C name/value pairs and CLI flags all pass.

use super::values::Settings;
use crate::error::{Result, StateError};

/// How an option's value is written as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionType {
    /// Any UTF-8 text (empty: the default).
    Text,
    /// Seconds, a decimal number (`30`, `0.5`).
    Seconds,
    /// A decimal number from 0 to 1.
    Fraction,
    /// A whole number.
    Count,
    /// `true` or `false`.
    Flag,
}

impl OptionType {
    /// The type's word in listings: `text`, `seconds`, `fraction`, `count`, `flag`.
    pub fn as_str(self) -> &'static str {
        match self {
            OptionType::Text => "text",
            OptionType::Seconds => "seconds",
            OptionType::Fraction => "fraction",
            OptionType::Count => "count",
            OptionType::Flag => "flag",
        }
    }
}

/// One row of the option table ([`OPTIONS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The option's name on every surface that takes names (C, the ASP.NET attributes, Django's
    /// `COSMOS_SESSION_STATE` keys, Python keywords); CLI flags are `--` and the name with `-`.
    pub name: &'static str,
    /// How its value is written.
    pub kind: OptionType,
    /// The values accepted, in words (checked by [`Settings::resolve`]).
    pub range: &'static str,
    /// What it does.
    pub doc: &'static str,
}

impl OptionSpec {
    /// The option's default as text ([`Settings::get`] of [`Settings::default`]).
    pub fn default_text(&self) -> String {
        Settings::default().get(self.name).unwrap_or_default()
    }
}

const fn spec(
    name: &'static str,
    kind: OptionType,
    range: &'static str,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec {
        name,
        kind,
        range,
        doc,
    }
}

/// Every session-state option, in the order of the docs' table. Defaults are
/// [`Settings::default`]'s; ranges are checked by [`Settings::resolve`].
pub const OPTIONS: &[OptionSpec] = &[
    spec(
        "database",
        OptionType::Text,
        "1-255 of A-Z a-z 0-9 - _ (empty: the default)",
        "database id; created by the first write when missing (see create_if_missing)",
    ),
    spec(
        "container",
        OptionType::Text,
        "1-255 of A-Z a-z 0-9 - _ (empty: the default)",
        "container id; created like the database",
    ),
    spec(
        "consistency",
        OptionType::Text,
        "Strong, BoundedStaleness, Session, ConsistentPrefix, Eventual, AccountDefault",
        "consistency level asked for; AccountDefault sends none (the account's own applies)",
    ),
    spec(
        "lock_ttl",
        OptionType::Seconds,
        "above 0, below 10^9",
        "how long a lock lives before another request may take it over",
    ),
    spec(
        "timeout",
        OptionType::Seconds,
        "above 0, below 10^9",
        "a session's default timeout",
    ),
    spec(
        "compression",
        OptionType::Flag,
        "true, false",
        "gzip new content (items record their own flag)",
    ),
    spec(
        "renew_fraction",
        OptionType::Fraction,
        "0 to 1",
        "fraction of the timeout after which a read renews the session",
    ),
    spec(
        "request_timeout",
        OptionType::Seconds,
        "above 0, below 3600",
        "how long one HTTP request to Cosmos DB may take",
    ),
    spec(
        "max_retries",
        OptionType::Count,
        "0 to 100",
        "retries of a throttled, conflicting, unavailable or failed request",
    ),
    spec(
        "operation_timeout",
        OptionType::Seconds,
        "above 0, below 3600",
        "how long one operation may take in all, retries and region changes included",
    ),
    spec(
        "preferred_regions",
        OptionType::Text,
        "region names, comma-separated (empty: none)",
        "regions reads try in order before the write region (\"East US, West US\")",
    ),
    spec(
        "allow_multi_write",
        OptionType::Flag,
        "true, false",
        "run on an account with several write regions (refused by default)",
    ),
    spec(
        "create_if_missing",
        OptionType::Flag,
        "true, false",
        "the first write creates a missing database and container (key sign-in only)",
    ),
    spec(
        "authentication",
        OptionType::Text,
        "Key, ManagedIdentity, ClientSecret",
        "how to sign in; with Entra ID the connection string has AccountEndpoint only",
    ),
    spec(
        "managed_identity_client_id",
        OptionType::Text,
        "a client id (empty: the system-assigned identity)",
        "a user-assigned managed identity's client id (with ManagedIdentity)",
    ),
];

/// The row of `name` (an `invalid_option` naming it and listing the options when unknown).
pub fn option_spec(name: &str) -> Result<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.name == name).ok_or_else(|| {
        let names: Vec<&str> = OPTIONS.iter().map(|o| o.name).collect();
        StateError::InvalidOption(format!(
            "unknown option {:?} (options: {})",
            shorten(name),
            names.join(", ")
        ))
    })
}

/// At most 60 characters of a value for an error message.
fn shorten(text: &str) -> String {
    text.chars().take(60).collect()
}

fn parse_number(spec: &OptionSpec, text: &str) -> Result<f64> {
    let bad = || {
        StateError::InvalidOption(format!(
            "{}: {:?} is not a number ({} {})",
            spec.name,
            shorten(text),
            spec.kind.as_str(),
            spec.range
        ))
    };
    let value: f64 = text.trim().parse().map_err(|_| bad())?;
    // "inf" and "NaN" parse as floats but are no option's value.
    if value.is_finite() {
        Ok(value)
    } else {
        Err(bad())
    }
}

fn parse_count(spec: &OptionSpec, text: &str) -> Result<i64> {
    text.trim().parse().map_err(|_| {
        StateError::InvalidOption(format!(
            "{}: {:?} is not a whole number ({})",
            spec.name,
            shorten(text),
            spec.range
        ))
    })
}

fn parse_flag(spec: &OptionSpec, text: &str) -> Result<bool> {
    match text.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        t if t.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(StateError::InvalidOption(format!(
            "{}: {:?} is not true or false",
            spec.name,
            shorten(text)
        ))),
    }
}

/// Seconds and fractions as text: the shortest decimal that reads back the same.
fn number_text(value: f64) -> String {
    format!("{value}")
}

impl Settings {
    /// Sets the option `name` from its text form (see [`OPTIONS`]): `invalid_option` naming the
    /// option for an unknown name or a value of the wrong type; ranges are checked by
    /// [`resolve`](Self::resolve), so a value out of range is refused the same way wherever it
    /// came from.
    ///
    /// ```
    /// use cosmos_session_state::Settings;
    /// let mut s = Settings::default();
    /// s.set("lock_ttl", "45")?;
    /// s.set("preferred_regions", "East US, West US")?;
    /// assert_eq!(s.get("lock_ttl")?, "45");
    /// assert_eq!(s.set("lock_tll", "45").unwrap_err().code(), "invalid_option");
    /// s.set("max_retries", "-1")?; // a whole number, out of range:
    /// assert!(s.resolve().unwrap_err().to_string().contains("max_retries"));
    /// # Ok::<(), cosmos_session_state::StateError>(())
    /// ```
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let spec = option_spec(name)?;
        match spec.name {
            "database" => self.database = value.to_owned(),
            "container" => self.container = value.to_owned(),
            "consistency" => self.consistency = value.to_owned(),
            "lock_ttl" => self.lock_ttl = parse_number(spec, value)?,
            "timeout" => self.timeout = parse_number(spec, value)?,
            "compression" => self.compression = parse_flag(spec, value)?,
            "renew_fraction" => self.renew_fraction = parse_number(spec, value)?,
            "request_timeout" => self.request_timeout = parse_number(spec, value)?,
            "max_retries" => self.max_retries = parse_count(spec, value)?,
            "operation_timeout" => self.operation_timeout = parse_number(spec, value)?,
            "preferred_regions" => self.preferred_regions = value.to_owned(),
            "allow_multi_write" => self.allow_multi_write = parse_flag(spec, value)?,
            "create_if_missing" => self.create_if_missing = parse_flag(spec, value)?,
            "authentication" => self.authentication = value.to_owned(),
            "managed_identity_client_id" => self.managed_identity_client_id = value.to_owned(),
            other => {
                return Err(StateError::InvalidOption(format!(
                    "option {other} is listed but not settable (a bug: please report it)"
                )));
            }
        }
        Ok(())
    }

    /// Sets several options (name, text) in order, stopping at the first refused one.
    pub fn set_all<'a>(
        &mut self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<()> {
        pairs
            .into_iter()
            .try_for_each(|(name, value)| self.set(name, value))
    }

    /// The option `name`'s value as text (the form [`set`](Self::set) reads back).
    pub fn get(&self, name: &str) -> Result<String> {
        let spec = option_spec(name)?;
        Ok(match spec.name {
            "database" => self.database.clone(),
            "container" => self.container.clone(),
            "consistency" => self.consistency.clone(),
            "lock_ttl" => number_text(self.lock_ttl),
            "timeout" => number_text(self.timeout),
            "compression" => self.compression.to_string(),
            "renew_fraction" => number_text(self.renew_fraction),
            "request_timeout" => number_text(self.request_timeout),
            "max_retries" => self.max_retries.to_string(),
            "operation_timeout" => number_text(self.operation_timeout),
            "preferred_regions" => self.preferred_regions.clone(),
            "allow_multi_write" => self.allow_multi_write.to_string(),
            "create_if_missing" => self.create_if_missing.to_string(),
            "authentication" => self.authentication.clone(),
            "managed_identity_client_id" => self.managed_identity_client_id.clone(),
            other => {
                return Err(StateError::InvalidOption(format!(
                    "option {other} is listed but not readable (a bug: please report it)"
                )));
            }
        })
    }

    /// The option table as JSON, for surfaces that list or document the options: an array of
    /// `{"name", "type", "default", "range", "doc"}` in table order.
    pub fn schema_json() -> String {
        let rows: Vec<serde_json::Value> = OPTIONS
            .iter()
            .map(|o| {
                serde_json::json!({
                    "name": o.name,
                    "type": o.kind.as_str(),
                    "default": o.default_text(),
                    "range": o.range,
                    "doc": o.doc,
                })
            })
            .collect();
        serde_json::Value::Array(rows).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_option_reads_back_what_was_set() {
        let sample = |spec: &OptionSpec| match spec.kind {
            OptionType::Text => "x",
            OptionType::Seconds => "12.5",
            OptionType::Fraction => "0.5",
            OptionType::Count => "3",
            // The flag's other value, so that setting it changes something.
            OptionType::Flag if spec.default_text() == "true" => "false",
            OptionType::Flag => "true",
        };
        for spec in OPTIONS {
            let mut s = Settings::default();
            s.set(spec.name, sample(spec)).unwrap();
            assert_eq!(s.get(spec.name).unwrap(), sample(spec), "{}", spec.name);
            assert_ne!(s, Settings::default(), "{} changed nothing", spec.name);
        }
    }

    #[test]
    fn defaults_read_back_unchanged() {
        let mut s = Settings::default();
        for spec in OPTIONS {
            s.set(spec.name, &spec.default_text()).unwrap();
        }
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn wrong_types_and_names_are_invalid_options_naming_them() {
        let mut s = Settings::default();
        for (name, value) in [
            ("lock_ttl", "soon"),
            ("lock_ttl", "inf"),
            ("timeout", "NaN"),
            ("max_retries", "2.5"),
            ("compression", "yes"),
            ("nope", "1"),
        ] {
            let e = s.set(name, value).unwrap_err();
            assert_eq!(e.code(), "invalid_option");
            assert!(e.to_string().contains(name), "{e}");
        }
        assert_eq!(s, Settings::default(), "a refused value changes nothing");
    }

    #[test]
    fn out_of_range_values_are_refused_by_resolve_naming_the_option() {
        for (name, value) in [
            ("lock_ttl", "-1"),
            ("timeout", "0"),
            ("renew_fraction", "2"),
            ("request_timeout", "4000"),
            ("max_retries", "-1"),
            ("max_retries", "101"),
            ("operation_timeout", "0"),
            ("consistency", "Weak"),
            ("authentication", "Password"),
        ] {
            let mut s = Settings::default();
            s.set(name, value).unwrap();
            let e = s.resolve().unwrap_err();
            assert_eq!(e.code(), "invalid_option", "{name}={value}");
            assert!(e.to_string().contains(name), "{name}={value}: {e}");
        }
    }

    #[test]
    fn the_schema_lists_every_option_with_its_default() {
        let rows: Vec<serde_json::Value> = serde_json::from_str(&Settings::schema_json()).unwrap();
        assert_eq!(rows.len(), OPTIONS.len());
        assert_eq!(rows[0]["name"], "database");
        assert_eq!(rows[0]["default"], "sessions");
        let ttl = rows.iter().find(|r| r["name"] == "lock_ttl").unwrap();
        assert_eq!(
            (ttl["type"].as_str(), ttl["default"].as_str()),
            (Some("seconds"), Some("30"))
        );
    }
}
