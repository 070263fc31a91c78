//! Feed ranges, effective partition keys, routing maps, and the token to send for a partition
//! key or a feed range; the latest token for a feed range.

use cosmos_session_token::{
    Category, FeedRange, PartitionKeyDefinition, PartitionKeyError, PartitionKeyRange,
    PartitionKeyValue, RoutingMap as CoreMap, SessionToken as CoreToken, epk_range,
    latest_for_feed_range as core_latest, latest_token_for_feed_range as core_latest_token,
    parse_pair_token,
};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::token::SessionToken;
use crate::*;

fn pk_value_error(message: String) -> JsValue {
    err(PartitionKeyError::Value(message))
}

/// JSON text of a partition key value: a string, number, bigint, boolean, `null`, `{}` (no
/// value: "undefined") or an array of them (a hierarchical key). Numbers are written in their
/// shortest exact form, `bigint`s in full (the core reads every number as the double it is).
fn pk_json(v: &JsValue, out: &mut String) -> JsResult<()> {
    if let Some(f) = v.as_f64() {
        let n = serde_json::Number::from_f64(f)
            .ok_or_else(|| pk_value_error(format!("{f} is not a finite number")))?;
        out.push_str(&n.to_string());
    } else if v.is_string() {
        let s = text(v, "the partition key")?;
        out.push_str(&serde_json::Value::String(s).to_string());
    } else if v.is_bigint() {
        let big: js_sys::BigInt = v.clone().unchecked_into();
        let s = big.to_string(10).map(String::from).unwrap_or_default();
        out.push_str(&s);
    } else if let Some(b) = v.as_bool() {
        out.push_str(if b { "true" } else { "false" });
    } else if v.is_null() {
        out.push_str("null");
    } else if let Some(list) = v.dyn_ref::<Array>() {
        out.push('[');
        for (i, item) in list.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            pk_json(&item, out)?;
        }
        out.push(']');
    } else if v.is_object() {
        out.push_str(&json_text(v, "the partition key")?);
    } else {
        return Err(pk_value_error(format!(
            "a partition key is a string, number, bigint, boolean, null, {{}} or an array of them, not {}",
            type_name(v)
        )));
    }
    Ok(())
}

/// A partition key value as the core's components.
pub(crate) fn components(value: &JsValue) -> JsResult<Vec<PartitionKeyValue>> {
    let mut json = String::new();
    pk_json(value, &mut json)?;
    PartitionKeyValue::parse_json(&json).map_err(err)
}

/// The container's partition-key definition: its `partitionKey` property (an object with
/// `paths`, `kind`, `version`, or its JSON text); `undefined`/`null`: Hash V2.
pub(crate) fn container_definition(v: &JsValue) -> JsResult<PartitionKeyDefinition> {
    if v.is_undefined() || v.is_null() {
        return Ok(PartitionKeyDefinition::hash_v2());
    }
    let json = json_text(v, "the partition-key definition")?;
    PartitionKeyDefinition::from_json(&json).map_err(err)
}

/// A feed range: "MIN-MAX" or feed-range JSON text, `[min, max]`, @azure/cosmos's
/// `FeedRange` (`{minInclusive, maxExclusive}`), or `{Range: {min, max, …}}`.
pub(crate) fn feed_range(v: &JsValue, what: &str) -> JsResult<FeedRange> {
    if v.is_string() {
        return FeedRange::parse(&text(v, what)?).map_err(err);
    }
    if let Some(pair) = v.dyn_ref::<Array>() {
        if pair.length() == 2 {
            let min = text(&pair.get(0), &format!("{what}[0]"))?;
            let max = text(&pair.get(1), &format!("{what}[1]"))?;
            return FeedRange::new(&min, &max).map_err(err);
        }
        return Err(invalid(format!("{what} as an array is [min, max]")));
    }
    if v.is_object() {
        let min = Reflect::get(v, &JsValue::from_str("minInclusive")).unwrap_or_default();
        let max = Reflect::get(v, &JsValue::from_str("maxExclusive")).unwrap_or_default();
        if min.is_string() && max.is_string() {
            let min = text(&min, &format!("{what}.minInclusive"))?;
            let max = text(&max, &format!("{what}.maxExclusive"))?;
            return FeedRange::new(&min, &max).map_err(err);
        }
        return FeedRange::parse(&json_text(v, what)?).map_err(err);
    }
    Err(err(cosmos_session_token::FeedRangeError::Invalid(format!(
        "{what} must be \"MIN-MAX\" text, feed-range JSON, [min, max] or a feed-range object, not {}",
        type_name(v)
    ))))
}

fn key_and_definition(
    value: &JsValue,
    options: &JsValue,
) -> JsResult<(Vec<PartitionKeyValue>, PartitionKeyDefinition)> {
    let kind = opt_text(&option(options, "kind")?, "options.kind")?;
    let kind =
        PartitionKeyDefinition::parse_kind(kind.as_deref().unwrap_or("Hash")).map_err(err)?;
    let version = integer_or(&option(options, "version")?, "options.version", 255, 2)? as u8;
    let levels = option(options, "levels")?;
    let levels = if levels.is_undefined() || levels.is_null() {
        None
    } else {
        Some(integer(&levels, "options.levels", 1 << 16)? as usize)
    };
    let c = components(value)?;
    let d = PartitionKeyDefinition::for_key(kind, version, levels, c.len()).map_err(err)?;
    Ok((c, d))
}

/// The effective partition key of `value` (upper-case hex, as `pkranges` spell their bounds);
/// `options`: `kind` ("Hash" or "MultiHash", default "Hash"), `version` (1 or 2, default 2),
/// `levels` (MultiHash paths; default the number of components).
#[wasm_bindgen(js_name = effectivePartitionKey)]
pub fn effective_partition_key(value: JsValue, options: JsValue) -> JsResult<String> {
    let (c, d) = key_and_definition(&value, &options)?;
    cosmos_session_token::effective_partition_key(&c, d).map_err(err)
}

/// The feed range of `value` as `{Range: {min, max, isMinInclusive, isMaxInclusive}}` (a
/// point for a full key, `[epk, epk + "FF")` for a hierarchical-key prefix); options as
/// `effectivePartitionKey`.
#[wasm_bindgen(js_name = feedRangeFromPartitionKey)]
pub fn feed_range_from_partition_key(value: JsValue, options: JsValue) -> JsResult<JsValue> {
    let (c, d) = key_and_definition(&value, &options)?;
    let r = epk_range(&c, d).map_err(err)?;
    let inner = Object::new();
    set(&inner, "min", r.min.as_str());
    set(&inner, "max", r.max.as_str());
    set(&inner, "isMinInclusive", true);
    set(&inner, "isMaxInclusive", r.max_inclusive);
    let out = Object::new();
    set(&out, "Range", inner);
    Ok(out.into())
}

/// A container's partition-key ranges: the body of `GET …/pkranges` (an object with
/// `PartitionKeyRanges`, an array of range objects, or their JSON text), checked to cover
/// ""..FF without gaps or overlaps.
#[wasm_bindgen(js_name = RoutingMap)]
pub struct RoutingMap {
    inner: CoreMap,
}

impl RoutingMap {
    pub(crate) fn map(&self) -> &CoreMap {
        &self.inner
    }
}

fn range_object(r: &PartitionKeyRange) -> JsValue {
    let o = Object::new();
    set(&o, "id", r.id.as_str());
    set(&o, "minInclusive", r.min.as_str());
    set(&o, "maxExclusive", r.max.as_str());
    let parents: Array = r.parents.iter().map(|p| JsValue::from_str(p)).collect();
    set(&o, "parents", parents);
    o.into()
}

#[wasm_bindgen(js_class = RoutingMap)]
impl RoutingMap {
    /// Reads the ranges (`invalid_routing_map` when they do not parse or leave a gap).
    #[wasm_bindgen(constructor)]
    pub fn new(ranges: JsValue) -> JsResult<RoutingMap> {
        let json = json_text(&ranges, "ranges")?;
        CoreMap::parse(&json)
            .map(|inner| RoutingMap { inner })
            .map_err(err)
    }

    /// The number of ranges.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.inner.ranges().len() as u32
    }

    /// Every range, in order (`{id, minInclusive, maxExclusive, parents}`).
    pub fn ranges(&self) -> Array {
        self.inner.ranges().iter().map(range_object).collect()
    }

    /// The range holding effective partition key `epk`.
    #[wasm_bindgen(js_name = rangeFor)]
    pub fn range_for(&self, epk: JsValue) -> JsResult<JsValue> {
        let epk = text(&epk, "epk")?;
        Ok(range_object(self.inner.range_for(&epk)))
    }

    /// The ranges `feedRange` overlaps, in order.
    pub fn overlapping(&self, feed_range_value: JsValue) -> JsResult<Array> {
        let fr = feed_range(&feed_range_value, "feedRange")?;
        Ok(self
            .inner
            .overlapping(&fr)
            .iter()
            .map(range_object)
            .collect())
    }
}

/// The token to send for the item with partition key `value`: its range's segment (or its
/// parents' progress after a split or merge), or `undefined`. `definition`: the container's
/// `partitionKey` property (`undefined`: Hash V2).
#[wasm_bindgen(js_name = tokenForPartitionKey)]
pub fn token_for_partition_key(
    token: JsValue,
    value: JsValue,
    routing_map: JsValue,
    definition: JsValue,
) -> JsResult<Option<SessionToken>> {
    let t = token_arg(&token, "token")?;
    let map = instance::<RoutingMap>(&routing_map, "RoutingMap", "routingMap")?;
    let d = container_definition(&definition)?;
    let c = components(&value)?;
    cosmos_session_token::token_for_partition_key(&t, &c, d, &map.inner)
        .map(|t| t.map(SessionToken::wrap))
        .map_err(|e| core_error(&e))
}

/// Only the segments of the ranges `feedRange` overlaps, or `undefined`.
#[wasm_bindgen(js_name = tokenForFeedRange)]
pub fn token_for_feed_range(
    token: JsValue,
    feed_range_value: JsValue,
    routing_map: JsValue,
) -> JsResult<Option<SessionToken>> {
    let t = token_arg(&token, "token")?;
    let map = instance::<RoutingMap>(&routing_map, "RoutingMap", "routingMap")?;
    let fr = feed_range(&feed_range_value, "feedRange")?;
    cosmos_session_token::token_for_feed_range(&t, &fr, &map.inner)
        .map(|t| t.map(SessionToken::wrap))
        .map_err(|e| core_error(&e))
}

/// Throws `token_too_large` when `token` is longer than `maxBytes` (tokens are never cut).
#[wasm_bindgen(js_name = checkHeaderBudget)]
pub fn check_header_budget(token: JsValue, max_bytes: JsValue) -> JsResult<()> {
    let t = token_arg(&token, "token")?;
    let max = integer(&max_bytes, "maxBytes", u32::MAX.into())? as usize;
    cosmos_session_token::check_header_budget(&t, max).map_err(err)
}

type Pairs = Vec<(FeedRange, CoreToken)>;

fn pairs_of(pairs: &JsValue) -> JsResult<Pairs> {
    let Some(list) = pairs.dyn_ref::<Array>() else {
        return Err(invalid(format!(
            "pairs must be an array of [feedRange, token] pairs, not {}",
            type_name(pairs)
        )));
    };
    let mut out = Vec::with_capacity(list.length() as usize);
    for (i, item) in list.iter().enumerate() {
        let Some(pair) = item.dyn_ref::<Array>().filter(|p| p.length() == 2) else {
            return Err(invalid(format!(
                "pair {i} is not a [feedRange, token] pair"
            )));
        };
        let prefix = format!("pair {i}: ");
        let range = feed_range(&pair.get(0), "the feed range").map_err(|e| prefixed(e, &prefix))?;
        let token_value = pair.get(1);
        let token = if token_value.is_string() {
            let s = text(&token_value, "the token")?;
            parse_pair_token(&s).map_err(|e| core_error_with(&e.into(), &prefix))?
        } else {
            token_arg(&token_value, "the token").map_err(|e| prefixed(e, &prefix))?
        };
        out.push((range, token));
    }
    Ok(out)
}

/// Prefixes the message of a thrown `SessionTokenError`.
fn prefixed(e: JsValue, prefix: &str) -> JsValue {
    let key = JsValue::from_str("message");
    if let Some(m) = Reflect::get(&e, &key).ok().and_then(|m| m.as_string()) {
        let _ = Reflect::set(&e, &key, &JsValue::from_str(&format!("{prefix}{m}")));
    }
    e
}

/// A missing result (no pair overlaps the target) is `undefined`.
fn none_if_not_found<T>(r: Result<T, cosmos_session_token::Error>) -> JsResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.category() == Category::NotFound => Ok(None),
        Err(e) => Err(core_error(&e)),
    }
}

/// The latest token covering `target`, from `[feedRange, token]` pairs (order does not
/// matter); `undefined` when no pair overlaps the target.
#[wasm_bindgen(js_name = latestForFeedRange)]
pub fn latest_for_feed_range(pairs: JsValue, target: JsValue) -> JsResult<Option<SessionToken>> {
    let pairs = pairs_of(&pairs)?;
    let target = feed_range(&target, "target")?;
    Ok(none_if_not_found(core_latest_token(&pairs, &target))?.map(SessionToken::wrap))
}

/// `latestForFeedRange` with one line per pair saying what became of it: `{token, lines}`, or
/// `undefined`.
#[wasm_bindgen(js_name = explainLatestForFeedRange)]
pub fn explain_latest_for_feed_range(pairs: JsValue, target: JsValue) -> JsResult<JsValue> {
    let pairs = pairs_of(&pairs)?;
    let target = feed_range(&target, "target")?;
    let Some(latest) = none_if_not_found(core_latest(&pairs, &target))? else {
        return Ok(JsValue::UNDEFINED);
    };
    let lines: Array = latest
        .explain(&pairs)
        .iter()
        .map(|l| JsValue::from_str(l))
        .collect();
    let o = Object::new();
    set(&o, "token", SessionToken::wrap(latest.token));
    set(&o, "lines", lines);
    Ok(o.into())
}
