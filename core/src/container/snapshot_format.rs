//! Reading a container snapshot with its limits checked while it is parsed: a list longer than
//! [`ContainerLimits`] allows stops the parser at the first element too many, so an oversized
//! snapshot costs no more than the limit's worth of work and memory.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::ContainerLimits;
use crate::error::ContainerError;

/// A snapshot as read (its tokens still text).
pub(super) struct RawSnapshot {
    pub(super) format: String,
    pub(super) version: u32,
    pub(super) collections: Vec<RawCollection>,
}

/// One collection as read.
pub(super) struct RawCollection {
    pub(super) rid: String,
    pub(super) names: Vec<String>,
    pub(super) token: String,
}

/// The limits in force, and where a broken one is recorded (the parser's own error only carries
/// text; the caller turns a recorded limit into `snapshot_too_large`).
#[derive(Clone, Copy)]
pub(super) struct SnapshotSeed<'a> {
    pub(super) limits: &'a ContainerLimits,
    pub(super) over: &'a Cell<Option<ContainerError>>,
}

impl SnapshotSeed<'_> {
    fn exceeded<E: de::Error>(&self, what: &'static str, max: usize) -> E {
        self.over.set(Some(ContainerError::SnapshotTooLarge {
            what,
            len: max + 1,
            max,
        }));
        E::custom(format!("more {what} than the limit of {max}"))
    }
}

fn unknown<E: de::Error>(field: &str, expected: &'static [&'static str]) -> E {
    E::unknown_field(field, expected)
}

const TOP_FIELDS: &[&str] = &["format", "version", "collections"];
const COLLECTION_FIELDS: &[&str] = &["rid", "names", "token"];

impl<'de> DeserializeSeed<'de> for SnapshotSeed<'_> {
    type Value = RawSnapshot;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RawSnapshot, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SnapshotSeed<'_> {
    type Value = RawSnapshot;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a container snapshot object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawSnapshot, A::Error> {
        let (mut format, mut version, mut collections) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => format = Some(map.next_value::<String>()?),
                "version" => version = Some(map.next_value::<u32>()?),
                "collections" => collections = Some(map.next_value_seed(Collections(self))?),
                other => return Err(unknown(other, TOP_FIELDS)),
            }
        }
        Ok(RawSnapshot {
            format: format.ok_or_else(|| de::Error::missing_field("format"))?,
            version: version.ok_or_else(|| de::Error::missing_field("version"))?,
            collections: collections.ok_or_else(|| de::Error::missing_field("collections"))?,
        })
    }
}

/// The `collections` list, at most `max_collections` long.
struct Collections<'a>(SnapshotSeed<'a>);

impl<'de> DeserializeSeed<'de> for Collections<'_> {
    type Value = Vec<RawCollection>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Collections<'_> {
    type Value = Vec<RawCollection>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of collections")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let max = self.0.limits.max_collections;
        let mut out = Vec::new();
        while let Some(c) = seq.next_element_seed(OneCollection(self.0))? {
            if out.len() == max {
                return Err(self.0.exceeded("collections", max));
            }
            out.push(c);
        }
        Ok(out)
    }
}

/// One collection object.
struct OneCollection<'a>(SnapshotSeed<'a>);

impl<'de> DeserializeSeed<'de> for OneCollection<'_> {
    type Value = RawCollection;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OneCollection<'_> {
    type Value = RawCollection;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a collection object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawCollection, A::Error> {
        let (mut rid, mut names, mut token) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "rid" => rid = Some(map.next_value::<String>()?),
                "names" => names = Some(map.next_value_seed(Names(self.0))?),
                "token" => token = Some(map.next_value::<String>()?),
                other => return Err(unknown(other, COLLECTION_FIELDS)),
            }
        }
        Ok(RawCollection {
            rid: rid.ok_or_else(|| de::Error::missing_field("rid"))?,
            names: names.unwrap_or_default(),
            token: token.ok_or_else(|| de::Error::missing_field("token"))?,
        })
    }
}

/// A collection's `names`, at most `max_names_per_collection`.
struct Names<'a>(SnapshotSeed<'a>);

impl<'de> DeserializeSeed<'de> for Names<'_> {
    type Value = Vec<String>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Names<'_> {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of collection names")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let max = self.0.limits.max_names_per_collection;
        let mut out = Vec::new();
        // The element is only read once it is known to fit (an extra one is skipped unread).
        loop {
            if out.len() == max {
                return match seq.next_element::<IgnoredAny>()? {
                    Some(_) => Err(self.0.exceeded("names in one collection", max)),
                    None => Ok(out),
                };
            }
            match seq.next_element::<String>()? {
                Some(name) => out.push(name),
                None => return Ok(out),
            }
        }
    }
}
