//! `cst state`: operators' view of ASP.NET/Django/Flask session state kept in Cosmos DB.

use std::io::Write;

use clap::{Args, Subcommand};
use cosmos_session_state::{CosmosStore, SessionStateStore, Settings};

use crate::failure::{Failure, Invalid};

/// Where the sessions are. The connection string holds the account key: prefer the environment
/// variable (a command line ends up in shell history and `ps`).
#[derive(Args)]
pub struct Target {
    /// `AccountEndpoint=…;AccountKey=…;` (default: $COSMOS_CONNECTION_STRING).
    #[arg(long, env = "COSMOS_CONNECTION_STRING", hide_env_values = true)]
    connection_string: String,
    /// The database id (the providers' `databaseId`).
    #[arg(long, env = "COSMOS_SESSION_DATABASE", default_value = "sessions")]
    database: String,
    /// The container id.
    #[arg(long, default_value = "SessionStore")]
    container: String,
    /// Consistency level asked for (Strong, BoundedStaleness, Session, ConsistentPrefix, Eventual,
    /// or AccountDefault to send none).
    #[arg(long, default_value = "Strong")]
    consistency: String,
    /// Seconds one HTTP request may take (below 3600).
    #[arg(long, default_value_t = 10.0)]
    request_timeout: f64,
    /// Retries of a throttled or failed request, 0 to 100 (an unreachable endpoint is retried
    /// with backoff for about 9 s at the default; 0 fails at once).
    #[arg(long, default_value_t = 9)]
    max_retries: i64,
}

#[derive(Subcommand)]
pub enum StateCommand {
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
}

fn open(t: &Target) -> Result<SessionStateStore, Invalid> {
    // The same defaults and ranges as every other surface (the state crate's Settings).
    let settings = Settings {
        database: t.database.clone(),
        container: t.container.clone(),
        consistency: t.consistency.clone(),
        request_timeout: t.request_timeout,
        max_retries: t.max_retries,
        ..Settings::default()
    };
    let (options, cosmos) = settings.resolve().map_err(state_err)?;
    let store = CosmosStore::connect(&t.connection_string, cosmos).map_err(state_err)?;
    SessionStateStore::new(store, options).map_err(state_err)
}

fn state_err(e: cosmos_session_state::StateError) -> Invalid {
    Invalid {
        code: e.code(),
        message: e.to_string(),
    }
}

pub fn run(command: StateCommand, global_json: bool, out: &mut impl Write) -> Result<(), Failure> {
    match command {
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
