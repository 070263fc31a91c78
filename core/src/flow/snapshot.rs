//! A flow's snapshot: versioned JSON carrying the progress (the session container's snapshot),
//! each collection's partition-key definition and ranges (so a fresh process scopes from its
//! first request), and whether the account takes writes in several regions.
//!
//! ```text
//! {"format":"cosmos-session-token/flow","version":1,"multi_write":false,
//!  "tokens":{…the container's snapshot…},
//!  "routes":[{"collection":"dbs/d/colls/c","definition":["Hash",2,1],
//!             "ranges":[["1","","7F",["0"]],["2","7F","FF",["0"]]]}]}
//! ```

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use super::routes::{MAX_FLOW_COLLECTIONS, definition_from, definition_json, map_from, map_json};
use super::session::SessionFlow;
use crate::error::{ContainerError, Error};

/// Snapshot format identifier (a contract: bump the version on any change).
pub const FLOW_SNAPSHOT_FORMAT: &str = "cosmos-session-token/flow";
/// Current flow snapshot version.
pub const FLOW_SNAPSHOT_VERSION: u32 = 1;
/// Largest flow snapshot accepted, in bytes (a cookie or a queue message carries it).
pub const MAX_FLOW_SNAPSHOT_BYTES: usize = 1 << 20;

fn invalid(why: &str) -> Error {
    ContainerError::InvalidSnapshot(format!("flow snapshot: {why}")).into()
}

impl SessionFlow {
    /// The flow as compact, versioned JSON (see the module docs of `flow::snapshot`): the
    /// progress, each collection's definition and ranges (maps of up to
    /// [`MAX_SNAPSHOT_RANGES`](super::MAX_SNAPSHOT_RANGES) ranges), collections in name order.
    pub fn snapshot(&self) -> String {
        let tokens: Value = serde_json::from_str(&self.tokens.snapshot()).unwrap_or(Value::Null);
        let routes = self.routes();
        let mut names: Vec<&String> = routes.iter().map(|(n, _)| n).collect();
        names.sort();
        let list: Vec<Value> = names
            .into_iter()
            .filter_map(|name| {
                let route = routes.get(name)?;
                let definition = route.definition.as_ref().map(definition_json);
                let ranges = route.map.as_deref().and_then(map_json);
                if definition.is_none() && ranges.is_none() {
                    return None;
                }
                let mut v = json!({ "collection": name });
                if let Some(d) = definition {
                    v["definition"] = d;
                }
                if let Some(r) = ranges {
                    v["ranges"] = r;
                }
                Some(v)
            })
            .collect();
        json!({
            "format": FLOW_SNAPSHOT_FORMAT,
            "version": FLOW_SNAPSHOT_VERSION,
            "multi_write": self.multi_write.load(Ordering::Relaxed),
            "tokens": tokens,
            "routes": list,
        })
        .to_string()
    }

    /// A flow from a [`snapshot`](Self::snapshot). Anything else is a typed error
    /// (`invalid_snapshot`, `snapshot_too_large`); nothing is half-read.
    ///
    /// ```
    /// use cosmos_session_token::SessionFlow;
    /// let f = SessionFlow::restore(&SessionFlow::new().snapshot())?;
    /// assert_eq!(SessionFlow::restore("garbage").unwrap_err().code(), "invalid_snapshot");
    /// # Ok::<(), cosmos_session_token::Error>(())
    /// ```
    pub fn restore(snapshot: &str) -> Result<SessionFlow, Error> {
        let flow = SessionFlow::new();
        flow.merge_snapshot(snapshot)?;
        Ok(flow)
    }

    /// Merges a [`snapshot`](Self::snapshot) into this flow: progress is merged (never lost),
    /// routing knowledge this flow already has for a collection is kept (it is the newer), and
    /// a multi-write account stays one. On error nothing changes.
    pub fn merge_snapshot(&self, snapshot: &str) -> Result<(), Error> {
        if snapshot.len() > MAX_FLOW_SNAPSHOT_BYTES {
            return Err(ContainerError::SnapshotTooLarge {
                what: "bytes",
                len: snapshot.len(),
                max: MAX_FLOW_SNAPSHOT_BYTES,
            }
            .into());
        }
        let doc: Value = serde_json::from_str(snapshot).map_err(|e| {
            invalid(&format!(
                "not JSON (line {} column {})",
                e.line(),
                e.column()
            ))
        })?;
        if doc.get("format").and_then(Value::as_str) != Some(FLOW_SNAPSHOT_FORMAT) {
            return Err(invalid(&format!(
                "no \"format\": \"{FLOW_SNAPSHOT_FORMAT}\""
            )));
        }
        if doc.get("version").and_then(Value::as_u64) != Some(u64::from(FLOW_SNAPSHOT_VERSION)) {
            return Err(invalid(&format!(
                "version is not {FLOW_SNAPSHOT_VERSION} (a newer library wrote it?)"
            )));
        }
        let routes = doc
            .get("routes")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("no \"routes\" list"))?;
        if routes.len() > MAX_FLOW_COLLECTIONS {
            return Err(ContainerError::SnapshotTooLarge {
                what: "collections with routes",
                len: routes.len(),
                max: MAX_FLOW_COLLECTIONS,
            }
            .into());
        }
        let mut learned = Vec::with_capacity(routes.len());
        for r in routes {
            let name = r
                .get("collection")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("a route without \"collection\""))?;
            let definition =
                match r.get("definition") {
                    None => None,
                    Some(d) => Some(definition_from(d).ok_or_else(|| {
                        invalid("a definition that is not [kind, version, levels]")
                    })?),
                };
            let map = match r.get("ranges") {
                None => None,
                Some(m) => Some(map_from(m).ok_or_else(|| {
                    invalid("ranges that are not a routing map of [id, min, max, [parents]]")
                })?),
            };
            learned.push((name.to_owned(), definition, map));
        }
        let tokens = doc.get("tokens").ok_or_else(|| invalid("no \"tokens\""))?;
        let multi = doc
            .get("multi_write")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        // The progress first: its restore checks everything before it changes anything.
        self.tokens.restore(&tokens.to_string())?;
        let mut routes = self.routes_mut();
        for (name, definition, map) in learned {
            let known = routes.get(&name).cloned().unwrap_or_default();
            if let (None, Some(d)) = (known.definition, definition) {
                routes.set_definition(&name, d);
            }
            if let (None, Some(m)) = (known.map, map) {
                routes.set_map(&name, m);
            }
        }
        if multi {
            self.multi_write.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}
