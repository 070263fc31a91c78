//! `cst epk` and `cst route`: effective partition keys, and the token to send for a partition
//! key or a feed range given the container's partition-key ranges.

use std::io::Write;

use clap::{Args, ValueEnum};
use cosmos_session_token::{
    FeedRange, PartitionKeyDefinition, PartitionKeyKind, PartitionKeyValue, RoutingMap,
    SessionToken, epk_range, token_for_feed_range, token_for_partition_key,
};

use crate::failure::{Failure, Invalid};

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    Hash,
    Multihash,
}

/// The container's partition-key definition.
#[derive(Args)]
pub struct Definition {
    /// The definition's kind.
    #[arg(long, value_enum, default_value = "hash")]
    kind: KindArg,
    /// The hash version (MultiHash is always 2).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
    version: u8,
    /// MultiHash: the number of paths (default: the number of components given, a full key).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    levels: Option<u8>,
}

impl Definition {
    fn resolve(&self, components: usize) -> Result<PartitionKeyDefinition, Invalid> {
        let kind = match self.kind {
            KindArg::Hash => PartitionKeyKind::Hash,
            KindArg::Multihash => PartitionKeyKind::MultiHash,
        };
        let levels = self.levels.map(usize::from);
        Ok(PartitionKeyDefinition::for_key(
            kind,
            self.version,
            levels,
            components,
        )?)
    }
}

#[derive(Args)]
pub struct EpkArgs {
    #[command(flatten)]
    definition: Definition,
    /// The partition key as JSON: "user-42", 42, true, null, {} (undefined), or a list of
    /// components for a hierarchical key (["tenant-1","user-7"]).
    #[arg(allow_hyphen_values = true)]
    value: String,
}

#[derive(Args)]
pub struct RouteArgs {
    /// The container's partition-key ranges: a file with the body of GET dbs/{db}/colls/{coll}/pkranges.
    #[arg(long)]
    pkranges: std::path::PathBuf,
    /// Route for the item with this partition key (JSON, as for cst epk).
    #[arg(
        long,
        allow_hyphen_values = true,
        conflicts_with = "feed_range",
        required_unless_present = "feed_range"
    )]
    partition_key: Option<String>,
    /// Route for this feed range (MIN-MAX, or the SDKs' JSON).
    #[arg(long, allow_hyphen_values = true)]
    feed_range: Option<String>,
    #[command(flatten)]
    definition: Definition,
    /// The session token (the composite one an application holds).
    token: String,
}

fn components(text: &str) -> Result<Vec<PartitionKeyValue>, Invalid> {
    Ok(PartitionKeyValue::parse_json(text)?)
}

pub fn epk(args: EpkArgs, json: bool, out: &mut impl Write) -> Result<(), Failure> {
    let c = components(&args.value)?;
    let d = args.definition.resolve(c.len())?;
    let r = epk_range(&c, d)?;
    if json {
        let v = serde_json::json!({
            "epk": r.min,
            "range": {"min": r.min, "max": r.max, "isMinInclusive": true, "isMaxInclusive": r.max_inclusive},
        });
        writeln!(out, "{v}")?;
    } else if r.max_inclusive {
        writeln!(out, "{}", r.min)?;
    } else {
        writeln!(out, "{} (a prefix: [{}, {}))", r.min, r.min, r.max)?;
    }
    Ok(())
}

pub fn route(args: RouteArgs, json: bool, out: &mut impl Write) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&args.pkranges)
        .map_err(|e| Invalid::from(format!("--pkranges {}: {e}", args.pkranges.display())))?;
    let map = RoutingMap::parse(&text)?;
    let token = SessionToken::parse(&args.token)?;
    let (sent, ranges) = match (&args.partition_key, &args.feed_range) {
        (Some(pk), _) => {
            let c = components(pk)?;
            let d = args.definition.resolve(c.len())?;
            let r = epk_range(&c, d)?;
            let ranges: Vec<String> = map.ranges_for(&r)?.iter().map(|r| r.id.clone()).collect();
            (token_for_partition_key(&token, &c, d, &map)?, ranges)
        }
        (None, Some(fr)) => {
            let fr = FeedRange::parse(fr).map_err(|e| format!("--feed-range: {e}"))?;
            let ranges = map.overlapping(&fr).iter().map(|r| r.id.clone()).collect();
            (token_for_feed_range(&token, &fr, &map)?, ranges)
        }
        (None, None) => return Err(Invalid::from("give --partition-key or --feed-range").into()),
    };
    if json {
        let v =
            serde_json::json!({"token": sent.as_ref().map(|t| t.to_string()), "ranges": ranges});
        writeln!(out, "{v}")?;
    } else if let Some(t) = &sent {
        writeln!(out, "{t}")?;
    }
    if sent.is_none() {
        return Err(Failure::NoResult);
    }
    Ok(())
}
