//! `cst flow show`: what a `SessionFlow` snapshot holds (the core's `FlowSummary`).

use std::io::{Read, Write};

use clap::Subcommand;
use cosmos_session_token::{
    CollectionSummary, FlowSummary, MAX_FLOW_SNAPSHOT_BYTES, PartitionKeyDefinition,
    PartitionKeyKind, SessionFlow,
};
use serde_json::{Value, json};

use crate::failure::{Failure, Invalid};

#[derive(Subcommand)]
pub enum FlowCommand {
    /// Show what a flow snapshot holds: per collection, its progress (one token per range), the
    /// partition-key definition and the ranges learned; and whether the account is multi-write.
    #[command(
        after_help = "SNAPSHOT is the text of SessionFlow.snapshot() (Rust, Python, .NET, C), or '-' to read it\n\
                      from standard input. A snapshot that is not one is refused (invalid_snapshot,\n\
                      snapshot_too_large; exit 2).\n\
                      Examples:\n  cst flow show \"$(cat flow.json)\"\n  \
                      cst flow show --json - < flow.json"
    )]
    Show {
        /// The snapshot text, or '-' for standard input.
        snapshot: String,
    },
}

/// Standard input, whole: at most one byte more than a snapshot may have (the core then refuses
/// it as too large), so a wrong file is never read whole.
fn read_stdin() -> Result<String, Invalid> {
    let mut buf = Vec::new();
    std::io::stdin()
        .take(MAX_FLOW_SNAPSHOT_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    String::from_utf8(buf).map_err(|e| {
        Invalid::from(format!(
            "standard input is not UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn kind_name(d: &PartitionKeyDefinition) -> &'static str {
    match d.kind {
        PartitionKeyKind::Hash => "Hash",
        PartitionKeyKind::MultiHash => "MultiHash",
    }
}

fn collection_json(c: &CollectionSummary) -> Value {
    let progress: Vec<Value> = c
        .progress
        .iter()
        .flat_map(|t| t.iter())
        .map(|s| json!({"range_id": s.range_id(), "token": s.to_string()}))
        .collect();
    let definition = c
        .definition
        .as_ref()
        .map(|d| json!({"kind": kind_name(d), "version": d.version, "levels": d.levels}));
    let ranges = c.ranges.as_ref().map(|list| {
        list.iter()
            .map(|r| json!({"id": r.id, "min": r.min, "max": r.max, "parents": r.parents}))
            .collect::<Vec<_>>()
    });
    json!({
        "names": c.names, "rid": c.rid, "progress": progress,
        "definition": definition, "ranges": ranges,
    })
}

fn print_text(s: &FlowSummary, out: &mut impl Write) -> std::io::Result<()> {
    let yes = |b: bool| if b { "yes" } else { "no" };
    writeln!(out, "multi-write:  {}", yes(s.multi_write))?;
    writeln!(out, "collections:  {}", s.collections.len())?;
    for c in &s.collections {
        let name = if c.names.is_empty() {
            "(name not known)".to_owned()
        } else {
            c.names.join(", ")
        };
        let rid = c
            .rid
            .as_ref()
            .filter(|r| !c.names.contains(r))
            .map(|r| format!(" (rid {r})"))
            .unwrap_or_default();
        writeln!(out, "collection   {name}{rid}")?;
        match &c.definition {
            Some(d) => writeln!(
                out,
                "definition   {} V{}, {} path{}",
                kind_name(d),
                d.version,
                d.levels,
                if d.levels == 1 { "" } else { "s" }
            )?,
            None => writeln!(out, "definition   not learned")?,
        }
        match &c.ranges {
            Some(list) => {
                let ids: Vec<&str> = list.iter().map(|r| r.id.as_str()).collect();
                writeln!(
                    out,
                    "ranges       {} learned: {}",
                    list.len(),
                    ids.join(", ")
                )?;
            }
            None => writeln!(out, "ranges       not learned")?,
        }
        match &c.progress {
            Some(t) => {
                writeln!(
                    out,
                    "progress     {} range{}",
                    t.len(),
                    if t.len() == 1 { "" } else { "s" }
                )?;
                for seg in t {
                    writeln!(out, "  {:<10} {seg}", seg.range_id())?;
                }
            }
            None => writeln!(out, "progress     none")?,
        }
    }
    Ok(())
}

pub fn run(command: FlowCommand, json: bool, out: &mut impl Write) -> Result<(), Failure> {
    match command {
        FlowCommand::Show { snapshot } => {
            let text = if snapshot == "-" {
                read_stdin()?
            } else {
                snapshot
            };
            let summary = SessionFlow::restore(text.trim())?.summary();
            if json {
                let collections: Vec<Value> =
                    summary.collections.iter().map(collection_json).collect();
                let v = json!({"multi_write": summary.multi_write, "collections": collections});
                writeln!(out, "{v}")?;
            } else {
                print_text(&summary, out)?;
            }
        }
    }
    Ok(())
}
