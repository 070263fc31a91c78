//! What a flow knows of each collection's partitioning, learned from the SDK's own traffic
//! (`GET …/colls/{coll}` gives the partition-key definition, `GET …/pkranges` the routing map)
//! or from a restored snapshot: enough to find the range a partition key lives in.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::partition_key::{PartitionKeyDefinition, PartitionKeyKind};
use crate::routing::{PartitionKeyRange, RoutingMap};

/// Most collections a flow keeps routing knowledge for (the least recently learned goes first).
pub const MAX_FLOW_COLLECTIONS: usize = 256;
/// Most ranges of one collection a flow snapshot carries (a larger map stays in the live flow
/// only; a process restored from the snapshot learns it from its SDK's traffic).
pub const MAX_SNAPSHOT_RANGES: usize = 4096;
/// Largest response body the flow reads to learn from (a collection or a page of ranges).
pub const MAX_LEARN_BYTES: usize = 8 << 20;

/// One collection's partitioning, as far as it is known.
#[derive(Debug, Clone, Default)]
pub(crate) struct Route {
    pub definition: Option<PartitionKeyDefinition>,
    pub map: Option<Arc<RoutingMap>>,
    /// When it was last learned (for the bound on collections).
    pub learned: u64,
}

/// Routing knowledge per collection name (`dbs/{db}/colls/{coll}`), bounded.
#[derive(Default)]
pub(crate) struct Routes {
    by_collection: HashMap<String, Route>,
    tick: u64,
}

impl Routes {
    pub fn get(&self, collection: &str) -> Option<&Route> {
        self.by_collection.get(collection)
    }

    fn entry(&mut self, collection: &str) -> &mut Route {
        self.tick += 1;
        if !self.by_collection.contains_key(collection)
            && self.by_collection.len() >= MAX_FLOW_COLLECTIONS
            && let Some(oldest) = self
                .by_collection
                .iter()
                .min_by_key(|(_, r)| r.learned)
                .map(|(k, _)| k.clone())
        {
            self.by_collection.remove(&oldest);
        }
        let tick = self.tick;
        let route = self.by_collection.entry(collection.to_owned()).or_default();
        route.learned = tick;
        route
    }

    pub fn set_definition(&mut self, collection: &str, definition: PartitionKeyDefinition) {
        self.entry(collection).definition = Some(definition);
    }

    pub fn set_map(&mut self, collection: &str, map: RoutingMap) {
        self.entry(collection).map = Some(Arc::new(map));
    }

    /// Forgets the routing map (a 410 said a range is gone); true when there was one.
    pub fn forget_map(&mut self, collection: &str) -> bool {
        self.by_collection
            .get_mut(collection)
            .and_then(|r| r.map.take())
            .is_some()
    }

    /// Every collection's route, by name (for snapshots).
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Route)> {
        self.by_collection.iter()
    }
}

/// The partition-key definition in the body of `GET …/colls/{coll}` (`partitionKey`).
pub(crate) fn definition_of(body: &[u8]) -> Option<PartitionKeyDefinition> {
    if body.len() > MAX_LEARN_BYTES {
        return None;
    }
    let doc: Value = serde_json::from_slice(body).ok()?;
    let pk = doc.get("partitionKey")?;
    PartitionKeyDefinition::from_json(&pk.to_string()).ok()
}

/// The routing map in the body of `GET …/pkranges`, when it covers the whole key space (an
/// incremental page listing only changes does not, and is left alone).
pub(crate) fn map_of(body: &[u8]) -> Option<RoutingMap> {
    if body.len() > MAX_LEARN_BYTES {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    RoutingMap::parse(text).ok()
}

/// A definition as the snapshot writes it: `["Hash", 2, 1]`.
pub(crate) fn definition_json(d: &PartitionKeyDefinition) -> Value {
    let kind = match d.kind {
        PartitionKeyKind::Hash => "Hash",
        PartitionKeyKind::MultiHash => "MultiHash",
    };
    serde_json::json!([kind, d.version, d.levels])
}

/// The inverse of [`definition_json`].
pub(crate) fn definition_from(v: &Value) -> Option<PartitionKeyDefinition> {
    let a = v.as_array()?;
    let kind = PartitionKeyDefinition::parse_kind(a.first()?.as_str()?).ok()?;
    let version = u8::try_from(a.get(1)?.as_u64()?).ok()?;
    let levels = usize::try_from(a.get(2)?.as_u64()?).ok()?;
    PartitionKeyDefinition::new(kind, version, levels).ok()
}

/// A map as the snapshot writes it: `[[id, min, max, [parents…]], …]`; `None` past
/// [`MAX_SNAPSHOT_RANGES`].
pub(crate) fn map_json(map: &RoutingMap) -> Option<Value> {
    let ranges = map.ranges();
    if ranges.len() > MAX_SNAPSHOT_RANGES {
        return None;
    }
    Some(Value::Array(
        ranges
            .iter()
            .map(|r| serde_json::json!([r.id, r.min, r.max, r.parents]))
            .collect(),
    ))
}

/// The inverse of [`map_json`]: `None` for anything else (including more than
/// [`MAX_SNAPSHOT_RANGES`] ranges).
pub(crate) fn map_from(v: &Value) -> Option<RoutingMap> {
    let list = v.as_array()?;
    if list.len() > MAX_SNAPSHOT_RANGES {
        return None;
    }
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let ranges = list
        .iter()
        .map(|r| {
            let r = r.as_array()?;
            Some(PartitionKeyRange {
                id: text(r.first())?,
                min: text(r.get(1))?,
                max: text(r.get(2))?,
                parents: r
                    .get(3)?
                    .as_array()?
                    .iter()
                    .map(|p| p.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    RoutingMap::new(ranges).ok()
}
