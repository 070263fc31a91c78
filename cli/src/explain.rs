//! `cst explain`: a table for people, or one JSON object for scripts (a contract).

use std::io::{self, Write};

use cosmos_session_token::{RegionProgress, SessionToken};
use serde::Serialize;

/// `cst explain --json` output (a contract; field order is part of it):
/// `{"segments":[{"range_id","format","version","global_lsn","regions":[{"id","lsn"}]}],"bytes":N}`.
#[derive(Serialize)]
pub struct Explained<'a> {
    segments: Vec<SegmentJson<'a>>,
    bytes: usize,
}

#[derive(Serialize)]
struct SegmentJson<'a> {
    range_id: &'a str,
    format: &'static str,
    /// `null` for a simple value.
    version: Option<i64>,
    global_lsn: i64,
    regions: Vec<RegionJson>,
}

#[derive(Serialize)]
struct RegionJson {
    id: u32,
    lsn: i64,
}

pub fn to_json(token: &SessionToken) -> Explained<'_> {
    let segments = token
        .iter()
        .map(|s| {
            let v = s.value();
            SegmentJson {
                range_id: s.range_id(),
                format: s.format().as_str(),
                version: v.version(),
                global_lsn: v.global_lsn(),
                regions: v
                    .regions()
                    .iter()
                    .map(|r| RegionJson {
                        id: r.id,
                        lsn: r.local_lsn,
                    })
                    .collect(),
            }
        })
        .collect();
    Explained {
        segments,
        bytes: token.encoded_len(),
    }
}

fn regions_cell(regions: &[RegionProgress]) -> String {
    if regions.is_empty() {
        return "-".into();
    }
    regions
        .iter()
        .map(|r| {
            if r.is_no_progress() {
                format!("{}=no progress", r.id)
            } else {
                r.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn print(token: &SessionToken, as_json: bool, out: &mut impl Write) -> io::Result<()> {
    if as_json {
        let text = serde_json::to_string(&to_json(token)).map_err(io::Error::other)?;
        return writeln!(out, "{text}");
    }
    let header = ["range", "format", "version", "global LSN", "regions"];
    let rows: Vec<[String; 5]> = token
        .iter()
        .map(|s| {
            let v = s.value();
            [
                s.range_id().to_owned(),
                s.format().as_str().to_owned(),
                v.version()
                    .map_or_else(|| "-".to_owned(), |n| n.to_string()),
                v.global_lsn().to_string(),
                regions_cell(v.regions()),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s
    };
    writeln!(out, "{}", line(header))?;
    for row in &rows {
        writeln!(out, "{}", line(row.each_ref().map(String::as_str)))?;
    }
    writeln!(
        out,
        "segments: {}, bytes: {}",
        token.len(),
        token.encoded_len()
    )
}

fn lack_json(l: &cosmos_session_token::Lack) -> serde_json::Value {
    use cosmos_session_token::Lack;
    let mut v = match l {
        Lack::Range { range_id, need } => {
            serde_json::json!({"range_id": range_id, "kind": "range", "need": need})
        }
        Lack::Version {
            range_id,
            have,
            need,
        } => {
            serde_json::json!({"range_id": range_id, "kind": "version", "have": have, "need": need})
        }
        Lack::GlobalLsn {
            range_id,
            have,
            need,
        } => {
            serde_json::json!({"range_id": range_id, "kind": "global_lsn", "have": have, "need": need})
        }
        Lack::Region {
            range_id,
            region,
            have,
            need,
        } => serde_json::json!({
            "range_id": range_id, "kind": "region", "region": region, "have": have, "need": need
        }),
    };
    v["text"] = l.to_string().into();
    v
}

/// `cst compare --explain`: the order, then what each token lacks of the other.
pub fn print_comparison(
    c: &cosmos_session_token::Comparison,
    json: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    if json {
        let v = serde_json::json!({
            "order": c.order.as_str(),
            "a_lacks": c.a_lacks.iter().map(lack_json).collect::<Vec<_>>(),
            "b_lacks": c.b_lacks.iter().map(lack_json).collect::<Vec<_>>(),
        });
        return writeln!(out, "{v}");
    }
    writeln!(out, "{}", c.order.as_str())?;
    for line in c.lines() {
        writeln!(out, "{line}")?;
    }
    Ok(())
}
