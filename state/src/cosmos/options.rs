//! What a [`CosmosStore`](super::CosmosStore) is configured with: the consistency level, the
//! sign-in, the database and container names and the request budgets ([`CosmosOptions`]).

use std::time::Duration;

use crate::error::{Result, StateError};

/// Consistency levels a request may ask for (`x-ms-consistency-level`). Cosmos DB only lets a
/// request *weaken* the account's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    /// Linearizable reads.
    Strong,
    /// Bounded staleness.
    BoundedStaleness,
    /// Read-your-writes within a session (safe here because the engine flows session tokens).
    Session,
    /// Consistent prefix.
    ConsistentPrefix,
    /// Eventual.
    Eventual,
}

impl Consistency {
    /// Parses the names of the ASP.NET providers' `consistencyLevel` attribute (case-insensitive).
    ///
    /// ```
    /// use cosmos_session_state::Consistency;
    /// assert_eq!(Consistency::parse("boundedStaleness").unwrap(), Consistency::BoundedStaleness);
    /// assert!(Consistency::parse("Strongest").is_err());
    /// ```
    pub fn parse(name: &str) -> Result<Consistency> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "strong" => Consistency::Strong,
            "boundedstaleness" => Consistency::BoundedStaleness,
            "session" => Consistency::Session,
            "consistentprefix" => Consistency::ConsistentPrefix,
            "eventual" => Consistency::Eventual,
            _ => {
                return Err(StateError::InvalidOption(format!(
                    "unknown consistency level {:?} (Strong, BoundedStaleness, Session, ConsistentPrefix, Eventual, or AccountDefault for the account's own)",
                    name.chars().take(40).collect::<String>()
                )));
            }
        })
    }

    /// The consistency option as every surface takes it: absent or `""` is the default
    /// ([`Consistency::Strong`]); `"AccountDefault"` (case-insensitive) sends no header, so the
    /// account's default applies; any other name is [`parse`](Self::parse)d.
    ///
    /// ```
    /// use cosmos_session_state::Consistency;
    /// assert_eq!(Consistency::option(None).unwrap(), Some(Consistency::Strong));
    /// assert_eq!(Consistency::option(Some("")).unwrap(), Some(Consistency::Strong));
    /// assert_eq!(Consistency::option(Some("accountDefault")).unwrap(), None);
    /// assert_eq!(Consistency::option(Some("Session")).unwrap(), Some(Consistency::Session));
    /// ```
    pub fn option(name: Option<&str>) -> Result<Option<Consistency>> {
        match name {
            None | Some("") => Ok(Some(Consistency::Strong)),
            Some(n) if n.eq_ignore_ascii_case("AccountDefault") => Ok(None),
            Some(n) => Consistency::parse(n).map(Some),
        }
    }

    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Consistency::Strong => "Strong",
            Consistency::BoundedStaleness => "BoundedStaleness",
            Consistency::Session => "Session",
            Consistency::ConsistentPrefix => "ConsistentPrefix",
            Consistency::Eventual => "Eventual",
        }
    }
}

/// Where and how [`CosmosStore`](super::CosmosStore) talks to Cosmos DB.
#[derive(Debug, Clone, PartialEq)]
pub struct CosmosOptions {
    /// Database id (created by the first write when missing, see `create_if_missing`).
    pub database: String,
    /// Container id, default `SessionStore` (created like the database).
    pub container: String,
    /// Consistency level asked for on every request; `None` uses the account's default.
    pub consistency: Option<Consistency>,
    /// Timeout of one HTTP request (connect + send + receive).
    pub request_timeout: Duration,
    /// Retries after a throttled, conflicting, unavailable or failed request.
    pub max_retries: u32,
    /// Most time spent waiting between retries of one operation.
    pub max_retry_wait: Duration,
    /// Most time one operation takes in all, retries, waits and region changes included.
    pub operation_timeout: Duration,
    /// Regions reads prefer, in order (names as the account lists them, `"East US"`); reads go
    /// to the write region when empty or when none is available.
    pub preferred_regions: Vec<String>,
    /// Run on an account that accepts writes in several regions (refused by default: the lock
    /// protocol's conditional writes are only checked per region there).
    pub allow_multi_write: bool,
    /// The first write that finds the database or the container missing creates it (with key
    /// sign-in; Entra ID tokens cannot).
    pub create_if_missing: bool,
    /// How [`CosmosStore::connect`](super::CosmosStore::connect) signs requests.
    pub authentication: Authentication,
}

/// How a store signs in, as the `authentication` option names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Authentication {
    /// The connection string's `AccountKey` (the default).
    #[default]
    Key,
    /// A managed identity ([`credential::ManagedIdentity::from_env`](super::credential::ManagedIdentity::from_env)); a client id picks a
    /// user-assigned one.
    ManagedIdentity {
        /// The user-assigned identity's client id (None: the system-assigned identity).
        client_id: Option<String>,
    },
    /// A service principal's secret from the environment ([`credential::ClientSecret::from_env`](super::credential::ClientSecret::from_env)).
    ClientSecret,
}

impl Authentication {
    /// Parses the option: `""`/`Key`, `ManagedIdentity`, `ClientSecret` (case-insensitive).
    ///
    /// ```
    /// use cosmos_session_state::Authentication;
    /// assert_eq!(Authentication::parse("managedidentity", "")?, Authentication::ManagedIdentity { client_id: None });
    /// assert!(Authentication::parse("Password", "").is_err());
    /// # Ok::<(), cosmos_session_state::StateError>(())
    /// ```
    pub fn parse(name: &str, managed_identity_client_id: &str) -> Result<Authentication> {
        let client_id = Some(managed_identity_client_id.trim())
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        let auth = match name.trim().to_ascii_lowercase().as_str() {
            "" | "key" => Authentication::Key,
            "managedidentity" => Authentication::ManagedIdentity { client_id },
            "clientsecret" => Authentication::ClientSecret,
            _ => {
                return Err(StateError::InvalidOption(format!(
                    "unknown authentication {:?} (Key, ManagedIdentity or ClientSecret)",
                    name.chars().take(40).collect::<String>()
                )));
            }
        };
        if !managed_identity_client_id.trim().is_empty()
            && !matches!(auth, Authentication::ManagedIdentity { .. })
        {
            return Err(StateError::InvalidOption(
                "managed_identity_client_id is only used with authentication=ManagedIdentity"
                    .into(),
            ));
        }
        Ok(auth)
    }
}

impl Default for CosmosOptions {
    fn default() -> Self {
        CosmosOptions {
            database: "sessions".into(),
            container: "SessionStore".into(),
            consistency: Some(Consistency::Strong),
            request_timeout: Duration::from_secs(10),
            max_retries: 9,
            max_retry_wait: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(20),
            preferred_regions: Vec::new(),
            allow_multi_write: false,
            create_if_missing: true,
            authentication: Authentication::Key,
        }
    }
}

impl CosmosOptions {
    /// Checks the database and container ids (1–255 letters, digits, `-` or `_`).
    pub fn check_names(&self) -> Result<()> {
        check_name("database", &self.database)?;
        check_name("container", &self.container)
    }
}

fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StateError::InvalidOption(format!(
            "{what} {:?} must be 1-255 letters, digits, '-' or '_'",
            name.chars().take(40).collect::<String>()
        )))
    }
}
