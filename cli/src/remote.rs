//! `cst route --container`: the container's partition-key definition and ranges, read from the
//! account with the session-state crate's REST client (its sign-in, endpoint rules, retries and
//! bounded paging), never a second HTTP client.

use clap::Args;
use cosmos_session_state::{ConnectionString, Settings};
use cosmos_session_token::{PartitionKeyDefinition, RoutingMap};

use crate::failure::Invalid;
use crate::state::{Connection, connect, state_err};

/// Where the container is and how to sign in (with `--container`).
#[derive(Args)]
pub struct Account {
    /// With --container: `AccountEndpoint=…;AccountKey=…;`, or `AccountEndpoint=…;` with
    /// --authentication (default: $COSMOS_CONNECTION_STRING; prefer it: a command line ends up
    /// in shell history and `ps`).
    #[arg(long, requires = "container", value_name = "CS")]
    connection_string: Option<String>,
    #[command(flatten)]
    connection: Connection,
}

/// `dbs/{db}/colls/{coll}` (a leading or trailing `/` allowed) as (database, container).
fn container_ids(link: &str) -> Result<(String, String), Invalid> {
    let parts: Vec<&str> = link.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["dbs", db, "colls", coll] if !db.is_empty() && !coll.is_empty() => {
            Ok(((*db).to_owned(), (*coll).to_owned()))
        }
        _ => Err(Invalid::from(format!(
            "--container: {:?} is not dbs/{{db}}/colls/{{coll}}",
            link.chars().take(200).collect::<String>()
        ))),
    }
}

impl Account {
    /// Reads the container's definition and ranges (`GET dbs/{db}/colls/{coll}` and its
    /// `pkranges`, every page), signed; `with_definition: false` reads the ranges only.
    pub fn read(
        &self,
        container: &str,
        with_definition: bool,
    ) -> Result<(Option<PartitionKeyDefinition>, RoutingMap), Invalid> {
        let (database, container) = container_ids(container)?;
        let link = format!("dbs/{database}/colls/{container}");
        let connection_string = match &self.connection_string {
            Some(cs) => cs.clone(),
            None => std::env::var("COSMOS_CONNECTION_STRING").map_err(|_| {
                Invalid::from(
                    "--container needs a connection string: --connection-string CS or $COSMOS_CONNECTION_STRING",
                )
            })?,
        };
        let mut settings = Settings {
            database,
            container,
            // Metadata reads: ask for no particular consistency (a request may only weaken the
            // account's default, so asking for Strong would fail on most accounts).
            consistency: "AccountDefault".into(),
            // Reading routing is safe on any account; nothing is created or written.
            allow_multi_write: true,
            create_if_missing: false,
            ..Settings::default()
        };
        self.connection.apply(&mut settings)?;
        let (_, store) = connect(&connection_string, &settings)?;
        // Errors name the account (its endpoint holds no secret: the store refuses a user name
        // or password in it) and the container; never the key.
        let endpoint = ConnectionString::parse(&connection_string)
            .map(|c| c.endpoint().to_owned())
            .unwrap_or_default();
        let read_err = |e| state_err(e).context(&format!("reading {link} on {endpoint}: "));
        let definition = if with_definition {
            Some(store.partition_key_definition().map_err(read_err)?)
        } else {
            None
        };
        let map = store.routing_map().map_err(read_err)?;
        Ok((definition, map))
    }
}

#[cfg(test)]
mod tests {
    use super::container_ids;

    #[test]
    fn container_links() {
        for ok in ["dbs/d/colls/c", "/dbs/d/colls/c/"] {
            assert_eq!(
                container_ids(ok).ok(),
                Some(("d".to_owned(), "c".to_owned()))
            );
        }
        for bad in ["d/c", "dbs/d/colls/", "dbs/d/colls/c/docs", "dbs//colls/c"] {
            let Err(e) = container_ids(bad) else {
                panic!("{bad} was taken for a container link")
            };
            assert!(e.message.starts_with("--container: "), "{}", e.message);
        }
    }
}
