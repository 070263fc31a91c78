//! `SessionContainer`: per-partition tokens of many collections.

use cosmos_session_token::{RequestKind, SessionContainer as CoreContainer};
use wasm_bindgen::prelude::*;

use crate::routing::{RoutingMap, components, container_definition};
use crate::token::SessionToken;
use crate::*;

/// Per-partition session tokens of many collections.
#[wasm_bindgen(js_name = SessionContainer)]
pub struct SessionContainer {
    inner: CoreContainer,
}

impl Default for SessionContainer {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen(js_class = SessionContainer)]
impl SessionContainer {
    /// An empty container.
    #[wasm_bindgen(constructor)]
    pub fn new() -> SessionContainer {
        SessionContainer {
            inner: CoreContainer::new(),
        }
    }

    /// Records a response's token if the capture rule allows it (2xx, 409, 412, 404 with
    /// subStatus other than 1002); whether it did. `token` `undefined`/`null`: no header.
    /// `options.resourceType`: the REST resource type (default "docs"; "colls", "pkranges" …
    /// capture nothing).
    pub fn capture(
        &self,
        collection_name: JsValue,
        collection_rid: JsValue,
        token: JsValue,
        status: JsValue,
        sub_status: JsValue,
        options: JsValue,
    ) -> JsResult<bool> {
        let name = text(&collection_name, "collectionName")?;
        let rid = text(&collection_rid, "collectionRid")?;
        let token = opt_text(&token, "token")?;
        let status = integer(&status, "status", u16::MAX.into())? as u16;
        let sub_status = integer_or(&sub_status, "subStatus", u32::MAX.into(), 0)? as u32;
        let rt = opt_text(&option(&options, "resourceType")?, "options.resourceType")?;
        let kind = RequestKind::from_resource_type(rt.as_deref().unwrap_or("docs")).map_err(err)?;
        self.inner
            .capture_response(kind, &name, &rid, token.as_deref(), status, sub_status)
            .map_err(|e| core_error(&e))
    }

    /// Forgets one range (gone after a split); whether it was stored.
    #[wasm_bindgen(js_name = forgetRange)]
    pub fn forget_range(&self, collection_name: JsValue, range_id: JsValue) -> JsResult<bool> {
        let name = text(&collection_name, "collectionName")?;
        let range_id = text(&range_id, "rangeId")?;
        Ok(self.inner.forget_range(&name, &range_id))
    }

    /// The token to send for one range: exact, else the merged `parents` relabelled, else
    /// `undefined`.
    pub fn resolve(
        &self,
        collection_name: JsValue,
        range_id: JsValue,
        parents: JsValue,
    ) -> JsResult<Option<SessionToken>> {
        let name = text(&collection_name, "collectionName")?;
        let range_id = text(&range_id, "rangeId")?;
        let parents = string_list(&parents, "parents")?;
        let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
        self.inner
            .resolve(&name, &range_id, &parents)
            .map(|t| t.map(SessionToken::wrap))
            .map_err(|e| core_error(&e))
    }

    /// The token to send for the item with partition key `value`, given the container's
    /// routing map and partition-key definition (its `partitionKey` property; `undefined`:
    /// Hash V2), or `undefined`.
    #[wasm_bindgen(js_name = resolveForPartitionKey)]
    pub fn resolve_for_partition_key(
        &self,
        collection_name: JsValue,
        value: JsValue,
        routing_map: JsValue,
        definition: JsValue,
    ) -> JsResult<Option<SessionToken>> {
        let name = text(&collection_name, "collectionName")?;
        let map = instance::<RoutingMap>(&routing_map, "RoutingMap", "routingMap")?;
        let d = container_definition(&definition)?;
        let c = components(&value)?;
        self.inner
            .resolve_for_partition_key(&name, &c, d, map.map())
            .map(|t| t.map(SessionToken::wrap))
            .map_err(|e| core_error(&e))
    }

    /// Every stored range of the collection as one composite token, or `undefined`.
    #[wasm_bindgen(js_name = resolveAll)]
    pub fn resolve_all(&self, collection_name: JsValue) -> JsResult<Option<SessionToken>> {
        let name = text(&collection_name, "collectionName")?;
        Ok(self.inner.resolve_all(&name).map(SessionToken::wrap))
    }

    /// Forgets the collection's tokens; whether anything was stored.
    pub fn clear(&self, collection_name: JsValue) -> JsResult<bool> {
        let name = text(&collection_name, "collectionName")?;
        Ok(self.inner.clear(&name))
    }

    /// The whole container as versioned JSON text.
    pub fn snapshot(&self) -> String {
        self.inner.snapshot()
    }

    /// A new container holding a snapshot (`invalid_snapshot`, `snapshot_too_large`).
    pub fn restore(snapshot: JsValue) -> JsResult<SessionContainer> {
        let snapshot = text(&snapshot, "snapshot")?;
        let c = CoreContainer::new();
        c.restore(&snapshot).map_err(|e| core_error(&e))?;
        Ok(SessionContainer { inner: c })
    }
}
