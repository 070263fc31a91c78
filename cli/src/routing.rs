//! `cst epk` and `cst route`: effective partition keys, and the range and the token to send for
//! a partition key or a feed range given the container's partition-key ranges (from a file, or
//! read from the account with `--container`).

use std::io::Write;

use clap::{Args, ValueEnum};
use cosmos_session_token::{
    FeedRange, PartitionKeyDefinition, PartitionKeyKind, PartitionKeyValue, RoutingMap,
    SessionToken, epk_range, token_for_feed_range, token_for_partition_key,
};

use crate::failure::{Failure, Invalid};
use crate::remote::Account;

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    Hash,
    Multihash,
}

/// The container's partition-key definition.
#[derive(Args)]
pub struct Definition {
    /// The definition's kind: hash (the default) or multihash.
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    /// The hash version, 1 or 2 (default 2; MultiHash is always 2).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    version: Option<u8>,
    /// MultiHash: the number of paths (default: the number of components given, a full key).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    levels: Option<u8>,
}

impl Definition {
    fn resolve(&self, components: usize) -> Result<PartitionKeyDefinition, Invalid> {
        let kind = match self.kind.unwrap_or(KindArg::Hash) {
            KindArg::Hash => PartitionKeyKind::Hash,
            KindArg::Multihash => PartitionKeyKind::MultiHash,
        };
        let levels = self.levels.map(usize::from);
        Ok(PartitionKeyDefinition::for_key(
            kind,
            self.version.unwrap_or(2),
            levels,
            components,
        )?)
    }

    fn given(&self) -> bool {
        self.kind.is_some() || self.version.is_some() || self.levels.is_some()
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
    #[arg(
        long,
        required_unless_present = "container",
        conflicts_with = "container"
    )]
    pkranges: Option<std::path::PathBuf>,
    /// Read the container's partition-key definition and ranges from the account instead
    /// (GET dbs/{db}/colls/{coll} and its pkranges, signed): the container's link.
    #[arg(long, value_name = "dbs/{db}/colls/{coll}")]
    container: Option<String>,
    #[command(flatten)]
    account: Account,
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
    /// With --pkranges: the container's partition-key definition (with --container, the
    /// account's is used).
    #[command(flatten)]
    definition: Definition,
    /// The session token (the composite one an application holds). Without it, the range ids
    /// are printed.
    token: Option<String>,
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

/// Where the definition (`None`: from the flags) and the ranges come from: the --pkranges file,
/// or the account (--container).
fn routing(args: &RouteArgs) -> Result<(Option<PartitionKeyDefinition>, RoutingMap), Invalid> {
    match (&args.container, &args.pkranges) {
        (Some(container), _) => {
            if args.definition.given() {
                return Err(Invalid::from(
                    "--kind, --version and --levels describe a --pkranges file's container; with --container the account's definition is used",
                ));
            }
            args.account.read(container, args.partition_key.is_some())
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Invalid::from(format!("--pkranges {}: {e}", path.display())))?;
            Ok((None, RoutingMap::parse(&text)?))
        }
        (None, None) => Err(Invalid::from("give --pkranges FILE or --container LINK")),
    }
}

pub fn route(args: RouteArgs, json: bool, out: &mut impl Write) -> Result<(), Failure> {
    // The token first: a bad one fails before any request is sent.
    let token = args.token.as_deref().map(SessionToken::parse).transpose()?;
    let (learned, map) = routing(&args)?;
    let (sent, ranges) = match (&args.partition_key, &args.feed_range) {
        (Some(pk), _) => {
            let c = components(pk)?;
            let d = match learned {
                Some(d) => d,
                None => args.definition.resolve(c.len())?,
            };
            let r = epk_range(&c, d)?;
            let ranges: Vec<String> = map.ranges_for(&r)?.iter().map(|r| r.id.clone()).collect();
            let sent = match &token {
                Some(t) => token_for_partition_key(t, &c, d, &map)?,
                None => None,
            };
            (sent, ranges)
        }
        (None, Some(fr)) => {
            let fr = FeedRange::parse(fr).map_err(|e| format!("--feed-range: {e}"))?;
            let ranges = map.overlapping(&fr).iter().map(|r| r.id.clone()).collect();
            let sent = match &token {
                Some(t) => token_for_feed_range(t, &fr, &map)?,
                None => None,
            };
            (sent, ranges)
        }
        (None, None) => return Err(Invalid::from("give --partition-key or --feed-range").into()),
    };
    if token.is_none() {
        // No token: the ranges that hold the key (or that the feed range overlaps).
        if json {
            writeln!(out, "{}", serde_json::json!({ "ranges": ranges }))?;
        } else {
            for id in &ranges {
                writeln!(out, "{id}")?;
            }
        }
        return Ok(());
    }
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
