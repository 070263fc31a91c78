//! What a REST request of the Cosmos DB protocol addresses, read from its method, path and
//! headers: the account, a collection, its partition-key ranges, or data in a collection (an
//! item, the item feed: queries, creates, batches, the change feed).

use crate::container::DATA_RESOURCE_TYPES;

/// Header names the flow reads and writes (lower case; lookups ignore case).
pub(crate) mod header {
    /// The session token.
    pub const SESSION_TOKEN: &str = "x-ms-session-token";
    /// The partition key of a point operation (a JSON array).
    pub const PARTITION_KEY: &str = "x-ms-documentdb-partitionkey";
    /// The partition-key range a feed request is addressed to.
    pub const RANGE_ID: &str = "x-ms-documentdb-partitionkeyrangeid";
    /// The EPK bounds of a feed-range request.
    pub const START_EPK: &str = "x-ms-start-epk";
    /// The EPK bounds of a feed-range request.
    pub const END_EPK: &str = "x-ms-end-epk";
    /// The response's sub-status.
    pub const SUB_STATUS: &str = "x-ms-substatus";
    /// The collection's RID, on data responses.
    pub const CONTENT_PATH: &str = "x-ms-content-path";
    /// "True" on a query (a POST that reads).
    pub const IS_QUERY: &str = "x-ms-documentdb-isquery";
    /// `application/query+json` on a query.
    pub const CONTENT_TYPE: &str = "content-type";
}

/// Every request header the flow reads (lower case): a hook passes these and no others.
pub const FLOW_REQUEST_HEADERS: [&str; 7] = [
    header::SESSION_TOKEN,
    header::PARTITION_KEY,
    header::RANGE_ID,
    header::START_EPK,
    header::END_EPK,
    header::IS_QUERY,
    header::CONTENT_TYPE,
];

/// Every response header the flow reads (lower case): a hook passes these and no others.
pub const FLOW_RESPONSE_HEADERS: [&str; 3] = [
    header::SESSION_TOKEN,
    header::SUB_STATUS,
    header::CONTENT_PATH,
];

/// What a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resource {
    /// `GET /`: the account description.
    Account,
    /// `dbs/{db}/colls/{coll}` itself.
    Collection(String),
    /// `dbs/{db}/colls/{coll}/pkranges…`.
    Ranges(String),
    /// Data in `dbs/{db}/colls/{coll}` (items, their feed, stored procedures …).
    Data(String),
    /// Anything else (databases, offers, users …): nothing to do.
    Other,
}

/// Reads the resource of a request path (`/dbs/d/colls/c/docs/1`, with or without the leading
/// or trailing `/`; a query string or a scheme and host are cut off).
pub(crate) fn resource(path: &str) -> Resource {
    // Called twice per request (before and after): one pass over the bytes, no allocation but
    // the collection's name.
    let bytes = path.as_bytes();
    let end = bytes
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(bytes.len());
    let mut start = 0;
    // An absolute URL: keep its path (from the first '/' after the first "://").
    let mut from = 0;
    while let Some(i) = bytes[from..end].iter().position(|&b| b == b':') {
        let at = from + i;
        if bytes[at..end].starts_with(b"://") {
            start = bytes[at + 3..end]
                .iter()
                .position(|&b| b == b'/')
                .map_or(end, |j| at + 3 + j);
            break;
        }
        from = at + 1;
    }
    // The first five non-empty parts (the rest never matters). '/' is ASCII, so every part
    // lies on character boundaries.
    let mut parts = [""; 5];
    let mut n = 0;
    let mut part_start = start;
    for i in start..=end {
        if i == end || bytes[i] == b'/' {
            if i > part_start {
                if n == parts.len() {
                    break;
                }
                parts[n] = &path[part_start..i];
                n += 1;
            }
            part_start = i + 1;
        }
    }
    let collection = |db: &str, coll: &str| {
        let mut name = String::with_capacity(db.len() + coll.len() + 11);
        name.push_str("dbs/");
        name.push_str(db);
        name.push_str("/colls/");
        name.push_str(coll);
        name
    };
    match (n, parts) {
        (0, _) => Resource::Account,
        (4, ["dbs", db, "colls", coll, _]) => Resource::Collection(collection(db, coll)),
        (5, ["dbs", db, "colls", coll, "pkranges"]) => Resource::Ranges(collection(db, coll)),
        // The data-plane resource types are the session container's (one list of them).
        (5, ["dbs", db, "colls", coll, kind]) if DATA_RESOURCE_TYPES.contains(&kind) => {
            Resource::Data(collection(db, coll))
        }
        _ => Resource::Other,
    }
}

/// The value of header `name` in `headers` (names compared without case).
pub(crate) fn find<'h>(headers: &[(&str, &'h str)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// True for a method that changes data (the service sends writes to the write region).
pub(crate) fn is_write(method: &str, headers: &[(&str, &str)]) -> bool {
    let query = find(headers, header::IS_QUERY).is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || find(headers, header::CONTENT_TYPE)
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/query+json"));
    !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD") && !query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let c = |s: &str| s.to_owned();
        assert_eq!(resource("/"), Resource::Account);
        assert_eq!(resource(""), Resource::Account);
        assert_eq!(
            resource("/dbs/d/colls/c/"),
            Resource::Collection(c("dbs/d/colls/c"))
        );
        assert_eq!(
            resource("dbs/d/colls/c/pkranges/"),
            Resource::Ranges(c("dbs/d/colls/c"))
        );
        assert_eq!(
            resource("/dbs/d/colls/c/docs/1/"),
            Resource::Data(c("dbs/d/colls/c"))
        );
        assert_eq!(
            resource("/dbs/d/colls/c/docs"),
            Resource::Data(c("dbs/d/colls/c"))
        );
        assert_eq!(
            resource("http://127.0.0.1:8081/dbs/d/colls/c/docs/x?a=b"),
            Resource::Data(c("dbs/d/colls/c"))
        );
        assert_eq!(resource("/dbs/d"), Resource::Other);
        assert_eq!(resource("/dbs/d/colls/c/offers"), Resource::Other);
        assert_eq!(resource("/offers"), Resource::Other);
        assert_eq!(
            resource("//dbs//d/colls/c//docs#x"),
            Resource::Data(c("dbs/d/colls/c"))
        );
        assert_eq!(
            resource("https://h/dbs/d/colls/c/pkranges/1/x/y"),
            Resource::Ranges(c("dbs/d/colls/c"))
        );
        assert_eq!(resource("https://h"), Resource::Account);
        assert_eq!(
            resource("/dbs/d/colls/c/docs/1/2/3"),
            Resource::Data(c("dbs/d/colls/c"))
        );
        assert_eq!(resource("/dbs/d/colls"), Resource::Other);
        assert_eq!(resource("/x/d/colls/c/docs"), Resource::Other);
    }

    #[test]
    fn writes() {
        assert!(is_write("POST", &[]));
        assert!(!is_write("POST", &[("x-ms-documentdb-isquery", "True")]));
        assert!(!is_write(
            "POST",
            &[("Content-Type", "application/query+json")]
        ));
        assert!(!is_write("get", &[]));
    }
}
