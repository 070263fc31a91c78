//! `SessionToken` and the token functions (`parse`, `parseLenient`, `merge`, `convert`).

use cosmos_session_token::{
    Code, Format, Lack, MergePolicy, Order, ParseOptions, RegionMismatch, Segment,
    SessionToken as CoreToken,
};
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use crate::*;

/// An Azure Cosmos DB session token (the `x-ms-session-token` header value). Immutable.
#[wasm_bindgen(js_name = SessionToken)]
pub struct SessionToken {
    pub(crate) inner: CoreToken,
}

impl SessionToken {
    pub(crate) fn wrap(inner: CoreToken) -> Self {
        SessionToken { inner }
    }
}

fn lenient_of(options: &JsValue) -> JsResult<bool> {
    boolean_or(&option(options, "lenient")?, "options.lenient", false)
}

fn parse_text(text_value: &JsValue, lenient: bool) -> JsResult<CoreToken> {
    let s = text(text_value, "the token")?;
    if lenient {
        CoreToken::parse_with(&s, &ParseOptions::LENIENT)
            .map(|p| p.token)
            .map_err(err)
    } else {
        CoreToken::parse(&s).map_err(err)
    }
}

/// The merge policy of an options object: `regionMismatch` ("error" or "union") and
/// `falseProgressProtection` (boolean).
pub(crate) fn policy(options: &JsValue) -> JsResult<MergePolicy> {
    let rm = option(options, "regionMismatch")?;
    let region_mismatch = match opt_text(&rm, "options.regionMismatch")?.as_deref() {
        None | Some("error") => RegionMismatch::Error,
        Some("union") => RegionMismatch::Union,
        Some(other) => {
            return Err(invalid(format!(
                "options.regionMismatch must be \"error\" or \"union\", not {other:?}"
            )));
        }
    };
    let fpp = option(options, "falseProgressProtection")?;
    Ok(MergePolicy {
        region_mismatch,
        false_progress_protection: boolean_or(&fpp, "options.falseProgressProtection", true)?,
    })
}

fn order_name(o: Order) -> &'static str {
    match o {
        Order::Less => "less",
        Order::Equal => "equal",
        Order::Greater => "greater",
        Order::Concurrent => "concurrent",
    }
}

/// A segment as a plain object: `{rangeId, format, version, globalLsn, regions, text}`.
fn segment_object(s: Segment<'_>) -> JsValue {
    let o = Object::new();
    let v = s.value();
    set(&o, "rangeId", s.range_id());
    set(&o, "format", s.format().as_str());
    set(
        &o,
        "version",
        v.version().map_or(JsValue::NULL, JsValue::from),
    );
    set(&o, "globalLsn", v.global_lsn());
    let regions = Array::new();
    for r in v.regions() {
        let ro = Object::new();
        set(&ro, "id", r.id);
        set(&ro, "lsn", r.local_lsn);
        regions.push(&ro);
    }
    set(&o, "regions", regions);
    set(&o, "text", s.to_string());
    o.into()
}

fn lack_object(l: &Lack) -> JsValue {
    let o = Object::new();
    match l {
        Lack::Range { range_id, need } => {
            set(&o, "rangeId", range_id.as_str());
            set(&o, "kind", "range");
            set(&o, "need", need.as_str());
        }
        Lack::Version {
            range_id,
            have,
            need,
        } => {
            set(&o, "rangeId", range_id.as_str());
            set(&o, "kind", "version");
            set(&o, "have", *have);
            set(&o, "need", *need);
        }
        Lack::GlobalLsn {
            range_id,
            have,
            need,
        } => {
            set(&o, "rangeId", range_id.as_str());
            set(&o, "kind", "global_lsn");
            set(&o, "have", *have);
            set(&o, "need", *need);
        }
        Lack::Region {
            range_id,
            region,
            have,
            need,
        } => {
            set(&o, "rangeId", range_id.as_str());
            set(&o, "kind", "region");
            set(&o, "region", *region);
            set(&o, "have", have.map_or(JsValue::NULL, JsValue::from));
            set(&o, "need", *need);
        }
    }
    set(
        &o,
        "behind",
        l.behind().map_or(JsValue::NULL, JsValue::from),
    );
    set(&o, "text", l.to_string());
    o.into()
}

#[wasm_bindgen(js_class = SessionToken)]
impl SessionToken {
    /// Parses a header value, strictly unless `options.lenient`.
    #[wasm_bindgen(js_name = parse)]
    pub fn parse(text: JsValue, options: JsValue) -> JsResult<SessionToken> {
        parse_text(&text, lenient_of(&options)?).map(Self::wrap)
    }

    /// Parses leniently: `{token, warnings}`, one warning object (`code`, `segment`, `offset`,
    /// `text`, `message`) per normalisation.
    #[wasm_bindgen(js_name = parseLenient)]
    pub fn parse_lenient(text_value: JsValue) -> JsResult<JsValue> {
        let s = text(&text_value, "the token")?;
        let parsed = CoreToken::parse_with(&s, &ParseOptions::LENIENT).map_err(err)?;
        let warnings = Array::new();
        for w in &parsed.warnings {
            let o = Object::new();
            set(&o, "code", w.kind().code());
            set(
                &o,
                "segment",
                w.segment()
                    .map_or(JsValue::NULL, |s| JsValue::from(s as u32)),
            );
            set(&o, "offset", w.offset() as u32);
            set(&o, "text", w.text());
            set(&o, "message", w.to_string());
            warnings.push(&o);
        }
        let out = Object::new();
        set(&out, "token", SessionToken::wrap(parsed.token));
        set(&out, "warnings", warnings);
        Ok(out.into())
    }

    /// The header value.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        self.inner.to_header_value()
    }

    /// The header value (so `JSON.stringify` writes the token as a string).
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> String {
        self.inner.to_header_value()
    }

    /// Merges with another token (a `SessionToken` or a string); `options.regionMismatch`
    /// ("error", the default, or "union") and `options.falseProgressProtection` (default true).
    pub fn merge(&self, other: JsValue, options: JsValue) -> JsResult<SessionToken> {
        let policy = policy(&options)?;
        let other = token_arg(&other, "other")?;
        self.inner
            .merge_with(&other, &policy)
            .map(Self::wrap)
            .map_err(err)
    }

    /// "less", "equal", "greater" or "concurrent": how this token relates to `other`.
    pub fn compare(&self, other: JsValue) -> JsResult<String> {
        let other = token_arg(&other, "other")?;
        Ok(order_name(self.inner.compare(&other)).to_owned())
    }

    /// `compare` with why: `{order, aLacks, bLacks}` — what this token lacks of `other`, and
    /// what `other` lacks of this one.
    #[wasm_bindgen(js_name = compareExplained)]
    pub fn compare_explained(&self, other: JsValue) -> JsResult<JsValue> {
        let other = token_arg(&other, "other")?;
        let c = self.inner.compare_explained(&other);
        let list = |lacks: &[Lack]| -> Array { lacks.iter().map(lack_object).collect() };
        let o = Object::new();
        set(&o, "order", order_name(c.order));
        set(&o, "aLacks", list(&c.a_lacks));
        set(&o, "bLacks", list(&c.b_lacks));
        Ok(o.into())
    }

    /// True when this token is at least as new as `other` everywhere.
    #[wasm_bindgen(js_name = isAtLeastAsNewAs)]
    pub fn is_at_least_as_new_as(&self, other: JsValue) -> JsResult<bool> {
        let other = token_arg(&other, "other")?;
        Ok(self.inner.is_at_least_as_new_as(&other))
    }

    /// Semantic equality (segment and region order ignored; `5` equals `-2#5`).
    pub fn equals(&self, other: JsValue) -> JsResult<bool> {
        let other = token_arg(&other, "other")?;
        Ok(self.inner == other)
    }

    /// The token to send for one range: the exact segment, else the merge of the present
    /// `parents` relabelled with `rangeId`, else `undefined`.
    pub fn scope(&self, range_id: JsValue, parents: JsValue) -> JsResult<Option<SessionToken>> {
        let range_id = text(&range_id, "rangeId")?;
        let parents = string_list(&parents, "parents")?;
        let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
        self.inner
            .scope(&range_id, &parents)
            .map(|t| t.map(Self::wrap))
            .map_err(err)
    }

    /// Every segment in simple form (lossy: version and regions are dropped).
    #[wasm_bindgen(js_name = toSimple)]
    pub fn to_simple(&self) -> SessionToken {
        Self::wrap(self.inner.to_simple())
    }

    /// Every segment in vector form (a simple `lsn` becomes `-2#lsn`).
    #[wasm_bindgen(js_name = toVector)]
    pub fn to_vector(&self) -> SessionToken {
        Self::wrap(self.inner.to_vector())
    }

    /// The segments, in order, as plain objects `{rangeId, format ("vector"/"simple"),
    /// version (bigint, null for simple), globalLsn (bigint), regions ([{id, lsn: bigint}]),
    /// text}`.
    #[wasm_bindgen(getter)]
    pub fn segments(&self) -> Array {
        self.inner.segments().iter().map(segment_object).collect()
    }

    /// The segment of `rangeId`, or `undefined`.
    pub fn get(&self, range_id: JsValue) -> JsResult<JsValue> {
        let range_id = text(&range_id, "rangeId")?;
        Ok(self
            .inner
            .get(&range_id)
            .map_or(JsValue::UNDEFINED, segment_object))
    }

    /// Whether the token has a segment for `rangeId`.
    pub fn has(&self, range_id: JsValue) -> JsResult<bool> {
        let range_id = text(&range_id, "rangeId")?;
        Ok(self.inner.contains(&range_id))
    }

    /// The number of segments.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        self.inner.len() as u32
    }

    /// The length in bytes (UTF-8) of the header value.
    #[wasm_bindgen(getter, js_name = encodedLength)]
    pub fn encoded_length(&self) -> u32 {
        self.inner.encoded_len() as u32
    }
}

/// Parses a header value, strictly unless `options.lenient` (`SessionToken.parse`).
#[wasm_bindgen(js_name = parse)]
pub fn parse(text: JsValue, options: JsValue) -> JsResult<SessionToken> {
    SessionToken::parse(text, options)
}

/// Merges a list of tokens (strings or `SessionToken`s) in one pass; options as
/// `SessionToken.merge`.
#[wasm_bindgen(js_name = merge)]
pub fn merge(tokens: JsValue, options: JsValue) -> JsResult<SessionToken> {
    let policy = policy(&options)?;
    let Some(list) = tokens.dyn_ref::<Array>() else {
        return Err(invalid(format!(
            "merge takes an array of tokens, not {}",
            type_name(&tokens)
        )));
    };
    let parsed: Vec<CoreToken> = list
        .iter()
        .enumerate()
        .map(|(i, t)| token_arg(&t, &format!("tokens[{i}]")))
        .collect::<JsResult<_>>()?;
    match CoreToken::merge_all(parsed.iter(), &policy) {
        Ok(Some(t)) => Ok(SessionToken::wrap(t)),
        Ok(None) => Err(table_error(
            Code::InvalidArgument,
            "merge needs at least one token".to_owned(),
        )),
        Err(e) => Err(err(e)),
    }
}

/// Converts every segment of a token to "simple" (lossy) or "vector"; the header value.
#[wasm_bindgen(js_name = convert)]
pub fn convert(token: JsValue, to: JsValue) -> JsResult<String> {
    let format = match text(&to, "to")?.as_str() {
        "simple" => Format::Simple,
        "vector" => Format::Vector,
        other => {
            return Err(invalid(format!(
                "to must be \"simple\" or \"vector\", not {other:?}"
            )));
        }
    };
    Ok(token_arg(&token, "token")?
        .convert(format)
        .to_header_value())
}
