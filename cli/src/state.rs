//! `cst state`: operators' view of ASP.NET/Django/Flask session state kept in Cosmos DB.

use std::io::Write;

use clap::{Args, Subcommand};
use cosmos_session_state::{CosmosStore, SessionStateStore, Settings};

use crate::failure::{Failure, Invalid};

/// Where the sessions are. The connection string holds the account key: prefer the environment
/// variable (a command line ends up in shell history and `ps`).
#[derive(Args)]
pub struct Target {
    /// `AccountEndpoint=…;AccountKey=…;`, or `AccountEndpoint=…;` with --authentication
    /// (default: $COSMOS_CONNECTION_STRING).
    #[arg(long, env = "COSMOS_CONNECTION_STRING", hide_env_values = true)]
    connection_string: String,
    /// The database id (the providers' `databaseId`; default: the option table's, see
    /// `cst state options`).
    #[arg(long, env = "COSMOS_SESSION_DATABASE")]
    database: Option<String>,
    /// The container id.
    #[arg(long)]
    container: Option<String>,
    /// Consistency level asked for (Strong, BoundedStaleness, Session, ConsistentPrefix, Eventual,
    /// or AccountDefault to send none).
    #[arg(long)]
    consistency: Option<String>,
    #[command(flatten)]
    connection: Connection,
    /// Run on an account with several write regions (refused by default).
    #[arg(long)]
    allow_multi_write: bool,
}

/// How requests reach the account: the sign-in and request options `cst state` and
/// `cst route --container` share, passed to the state crate's option table by name (its
/// defaults, types and ranges apply; see `cst state options`).
#[derive(Args)]
pub struct Connection {
    /// Seconds one HTTP request may take.
    #[arg(long, value_name = "SECONDS")]
    request_timeout: Option<String>,
    /// Retries of a throttled or failed request (an unreachable endpoint is retried with
    /// backoff for about 9 s at the default; 0 fails at once).
    #[arg(long, value_name = "COUNT")]
    max_retries: Option<String>,
    /// Seconds one operation may take in all, retries and region changes included (for
    /// `cst route`: each of its two reads).
    #[arg(long, value_name = "SECONDS")]
    operation_timeout: Option<String>,
    /// Regions reads prefer, comma-separated ("East US, West US"); reads go to the write region
    /// after them.
    #[arg(long, env = "COSMOS_PREFERRED_REGIONS")]
    preferred_regions: Option<String>,
    /// How to sign in: Key (the connection string's AccountKey), ManagedIdentity or
    /// ClientSecret (Entra ID, from the environment: IDENTITY_ENDPOINT/IDENTITY_HEADER or the
    /// instance-metadata endpoint; AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET).
    #[arg(long)]
    authentication: Option<String>,
    /// A user-assigned managed identity's client id (with --authentication ManagedIdentity).
    #[arg(long)]
    managed_identity_client_id: Option<String>,
}

impl Connection {
    /// Sets the options given on the command line, leaving the rest.
    pub fn apply(&self, settings: &mut Settings) -> Result<(), Invalid> {
        set_options(
            settings,
            [
                ("request_timeout", &self.request_timeout),
                ("max_retries", &self.max_retries),
                ("operation_timeout", &self.operation_timeout),
                ("preferred_regions", &self.preferred_regions),
                ("authentication", &self.authentication),
                (
                    "managed_identity_client_id",
                    &self.managed_identity_client_id,
                ),
            ],
        )
    }
}

#[derive(Subcommand)]
pub enum StateCommand {
    /// Print the session-state options every surface takes (this CLI's flags, the C and .NET
    /// option names, the ASP.NET attributes, Python keywords): type, default, range, meaning.
    /// With --json: the option table as JSON.
    Options,
    /// Show a session: size, compression, time to expiry, lock holder and lock age.
    #[command(
        after_help = "Example:\n  COSMOS_CONNECTION_STRING='AccountEndpoint=…;AccountKey=…;' \\\n    cst state show --database web 3j4kd0q1xv2l5m6n7p8r9s0t"
    )]
    Show {
        #[command(flatten)]
        target: Target,
        /// The session id.
        sid: String,
    },
    /// Break a session's lock (a crashed node leaves it locked for the lock TTL). Needs --force.
    Unlock {
        #[command(flatten)]
        target: Target,
        /// Really break the lock: its holder's next write fails with lock_lost.
        #[arg(long)]
        force: bool,
        /// The session id.
        sid: String,
    },
    /// Read sessions (read-only, never locking) and print what the store did: requests, retries
    /// by cause (throttled, read_session_unavailable = 404/1002, write_forbidden = 403/3,
    /// transient, unauthorized), region changes, account reads, request charge.
    #[command(
        after_help = "Example:\n  cst state stats --preferred-regions 'East US' --token '0:1#120' --repeat 10 3j4kd0q1xv2l5m6n7p8r9s0t"
    )]
    Stats {
        #[command(flatten)]
        target: Target,
        /// A session token to present with every read (as a web node that received it would).
        #[arg(long)]
        token: Option<String>,
        /// Reads of each session.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        repeat: u32,
        /// The session ids.
        #[arg(required = true)]
        sids: Vec<String>,
    },
}

fn open(t: &Target) -> Result<SessionStateStore, Invalid> {
    // Flags pass through as text: the state crate's option table holds every default, type and
    // range (the same refusals as every other surface).
    let mut settings = Settings {
        // An operator's tool reads and breaks locks: it never creates a database or container.
        create_if_missing: false,
        allow_multi_write: t.allow_multi_write,
        ..Settings::default()
    };
    set_options(
        &mut settings,
        [
            ("database", &t.database),
            ("container", &t.container),
            ("consistency", &t.consistency),
        ],
    )?;
    t.connection.apply(&mut settings)?;
    let (options, store) = connect(&t.connection_string, &settings)?;
    SessionStateStore::new(store, options).map_err(state_err)
}

/// Sets the options given on the command line (by the table's names), leaving the rest.
pub fn set_options<'a>(
    settings: &mut Settings,
    given: impl IntoIterator<Item = (&'a str, &'a Option<String>)>,
) -> Result<(), Invalid> {
    for (name, value) in given {
        if let Some(value) = value {
            settings.set(name, value).map_err(state_err)?;
        }
    }
    Ok(())
}

/// `cst state options`: the option table, two lines per option (or the table's JSON).
fn write_options(json: bool, out: &mut impl Write) -> std::io::Result<()> {
    if json {
        return writeln!(out, "{}", Settings::schema_json());
    }
    for o in cosmos_session_state::OPTIONS {
        let default = match o.default_text() {
            d if d.is_empty() => "(none)".to_owned(),
            d => d,
        };
        let flag = format!("--{}", o.name.replace('_', "-"));
        writeln!(
            out,
            "{flag:<30} {:<8} default {default}; {}",
            o.kind.as_str(),
            o.range
        )?;
        writeln!(out, "    {}", o.doc)?;
    }
    Ok(())
}

/// A store for `connection_string` as `settings` say, with the state crate's defaults and
/// ranges (`cst state` and `cst route --container` sign in and retry alike).
pub fn connect(
    connection_string: &str,
    settings: &Settings,
) -> Result<(cosmos_session_state::Options, CosmosStore), Invalid> {
    let (options, cosmos) = settings.resolve().map_err(state_err)?;
    let store = CosmosStore::connect(connection_string, cosmos).map_err(state_err)?;
    Ok((options, store))
}

pub fn state_err(e: cosmos_session_state::StateError) -> Invalid {
    Invalid {
        code: e.code(),
        message: e.to_string(),
    }
}

pub fn run(command: StateCommand, global_json: bool, out: &mut impl Write) -> Result<(), Failure> {
    match command {
        StateCommand::Options => {
            write_options(global_json, out)?;
        }
        StateCommand::Show { target, sid } => {
            let json = global_json;
            let info = open(&target)?.show(&sid).map_err(state_err)?;
            if json {
                let v = serde_json::json!({
                    "session": sid, "exists": info.exists, "stored_bytes": info.stored_bytes,
                    "compressed": info.compressed, "expires_in": info.expires_in,
                    "uninitialized": info.uninitialized, "locked": info.locked,
                    "lock_id": info.lock_id, "lock_age": info.lock_age,
                });
                writeln!(out, "{v}")?;
                // The same exit code as text mode: 1 when there is no live session.
                return if info.exists {
                    Ok(())
                } else {
                    Err(Failure::NoResult)
                };
            }
            let yes = |b: bool| if b { "yes" } else { "no" };
            writeln!(out, "session:    {sid}")?;
            writeln!(out, "exists:     {}", yes(info.exists))?;
            writeln!(
                out,
                "size:       {} bytes stored{}",
                info.stored_bytes,
                if info.compressed { " (compressed)" } else { "" }
            )?;
            writeln!(out, "expires in: {:.1} s", info.expires_in)?;
            if info.locked {
                writeln!(
                    out,
                    "lock:       held by lock {} for {:.1} s",
                    info.lock_id, info.lock_age
                )
            } else {
                writeln!(out, "lock:       none")
            }?;
            if !info.exists {
                return Err(Failure::NoResult);
            }
        }
        StateCommand::Stats {
            target,
            token,
            repeat,
            sids,
        } => {
            let store = open(&target)?;
            let token = token
                .map(|t| cosmos_session_token::SessionToken::parse(&t))
                .transpose()
                .map_err(|e| {
                    let e = cosmos_session_token::Error::from(e);
                    Invalid {
                        code: e.code(),
                        message: format!("--token: {e}"),
                    }
                })?;
            let (mut found, mut absent, mut failed) = (0u64, 0u64, Vec::new());
            for sid in &sids {
                for _ in 0..repeat {
                    if let Some(t) = &token {
                        store.present_token(sid, t).map_err(state_err)?;
                    }
                    match store.get(sid) {
                        Ok(Some(_)) => found += 1,
                        Ok(None) => absent += 1,
                        Err(e) => failed.push(e),
                    }
                }
            }
            let stats = store.stats();
            if global_json {
                let mut v = serde_json::to_value(stats).unwrap_or_default();
                v["reads"] = (found + absent + failed.len() as u64).into();
                v["found"] = found.into();
                v["absent"] = absent.into();
                v["failed"] = serde_json::Value::Array(
                    failed
                        .iter()
                        .map(|e| serde_json::json!({"code": e.code(), "message": e.to_string()}))
                        .collect(),
                );
                writeln!(out, "{v}")?;
            } else {
                let s = stats.store;
                writeln!(
                    out,
                    "reads:        {} ({found} found, {absent} absent, {} failed)",
                    found + absent + failed.len() as u64,
                    failed.len()
                )?;
                writeln!(
                    out,
                    "requests:     {} ({} account reads)",
                    s.requests, s.account_reads
                )?;
                writeln!(
                    out,
                    "retries:      {} (throttled {}, read session unavailable {}, write forbidden {}, transient {}, unauthorized {})",
                    s.retries,
                    s.throttled,
                    s.read_session_unavailable,
                    s.write_forbidden,
                    s.transient,
                    s.unauthorized
                )?;
                writeln!(out, "region moves: {}", s.region_failovers)?;
                writeln!(out, "charge:       {:.2} RU", s.request_charge)?;
                for e in &failed {
                    writeln!(out, "failed:       {} ({})", e, e.code())?;
                }
            }
            if let Some(e) = failed.into_iter().next() {
                return Err(state_err(e).into());
            }
        }
        StateCommand::Unlock { target, force, sid } => {
            if !force {
                return Err(Invalid::from(
                    "breaking a lock lets two requests write one session: pass --force if its holder is gone".to_owned(),
                )
                .into());
            }
            let released = open(&target)?.force_unlock(&sid).map_err(state_err)?;
            if global_json {
                let v = serde_json::json!({ "unlocked": released });
                writeln!(out, "{v}")?;
                return Ok(());
            }
            match released {
                Some(id) => writeln!(out, "unlocked: lock {id} was released")?,
                None => writeln!(out, "no lock was held")?,
            }
        }
    }
    Ok(())
}
