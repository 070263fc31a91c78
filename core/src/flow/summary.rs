//! A read-only view of what a flow holds, for operators (`cst flow show`) and diagnostics: per
//! collection, its progress (one segment per range), the partition-key definition and the ranges
//! learned, and whether the account takes writes in several regions.

use std::sync::atomic::Ordering;

use serde_json::Value;

use super::session::SessionFlow;
use crate::model::SessionToken;
use crate::partition_key::PartitionKeyDefinition;
use crate::routing::PartitionKeyRange;

/// What a [`SessionFlow`] holds ([`SessionFlow::summary`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSummary {
    /// The account takes writes in several regions (the flow leaves writes to the SDK).
    pub multi_write: bool,
    /// Every collection with progress or routing knowledge, in name order.
    pub collections: Vec<CollectionSummary>,
}

/// One collection of a [`FlowSummary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionSummary {
    /// The names it is known by (`dbs/{db}/colls/{coll}`), sorted; empty when only its RID is
    /// known.
    pub names: Vec<String>,
    /// The RID its progress is kept under (`None`: routing knowledge only, no progress yet).
    pub rid: Option<String>,
    /// Its progress: one segment per range (`None`: nothing captured yet).
    pub progress: Option<SessionToken>,
    /// The partition-key definition learned (`None`: not learned).
    pub definition: Option<PartitionKeyDefinition>,
    /// The partition-key ranges learned, in key order (`None`: no routing map).
    pub ranges: Option<Vec<PartitionKeyRange>>,
}

impl SessionFlow {
    /// What this flow holds, for display: each collection's progress, definition and ranges.
    /// A snapshot's view is `SessionFlow::restore(text)?.summary()`.
    ///
    /// ```
    /// use cosmos_session_token::SessionFlow;
    /// let f = SessionFlow::new();
    /// f.after_response("GET", "/dbs/d/colls/c", 200, &[], Some(br#"{"partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}"#));
    /// f.after_response("POST", "/dbs/d/colls/c/docs", 201,
    ///     &[("x-ms-session-token", "0:1#5"), ("x-ms-content-path", "rid")], None);
    /// let s = f.summary();
    /// assert_eq!(s.collections.len(), 1);
    /// let c = &s.collections[0];
    /// assert_eq!((c.names.as_slice(), c.rid.as_deref()), (&["dbs/d/colls/c".to_owned()][..], Some("rid")));
    /// assert_eq!(c.progress.as_ref().unwrap().to_string(), "0:1#5");
    /// assert_eq!(c.definition.unwrap().version, 2);
    /// assert!(c.ranges.is_none());
    /// ```
    pub fn summary(&self) -> FlowSummary {
        // The container's own snapshot lists each collection's RID, names and composite token.
        let tokens: Value = serde_json::from_str(&self.tokens.snapshot()).unwrap_or(Value::Null);
        let mut collections: Vec<CollectionSummary> = tokens
            .get("collections")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| {
                let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
                let mut names: Vec<String> = c
                    .get("names")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|n| text(Some(n)))
                    .collect();
                names.sort();
                CollectionSummary {
                    names,
                    rid: text(c.get("rid")),
                    progress: text(c.get("token")).and_then(|t| SessionToken::parse(&t).ok()),
                    definition: None,
                    ranges: None,
                }
            })
            .collect();
        let routes = self.routes();
        for (name, route) in routes.iter() {
            if route.definition.is_none() && route.map.is_none() {
                continue;
            }
            let at = collections
                .iter()
                .position(|c| c.names.contains(name) || c.rid.as_deref() == Some(name.as_str()));
            let entry = match at {
                Some(i) => &mut collections[i],
                None => {
                    collections.push(CollectionSummary {
                        names: vec![name.clone()],
                        rid: None,
                        progress: None,
                        definition: None,
                        ranges: None,
                    });
                    collections.last_mut().expect("just pushed")
                }
            };
            entry.definition = entry.definition.or(route.definition);
            if entry.ranges.is_none() {
                entry.ranges = route.map.as_ref().map(|m| m.ranges().to_vec());
            }
        }
        collections.sort_by(|a, b| {
            let key = |c: &CollectionSummary| {
                c.names
                    .first()
                    .cloned()
                    .or_else(|| c.rid.clone())
                    .unwrap_or_default()
            };
            key(a).cmp(&key(b))
        });
        FlowSummary {
            multi_write: self.multi_write.load(Ordering::Relaxed),
            collections,
        }
    }
}
