//! Master-key authorization of the Cosmos DB REST API ("Access control on Azure Cosmos DB
//! resources"): HMAC-SHA256 over `verb\nresourceType\nresourceLink\ndate\n\n` (verb, type and
//! date lower-cased), with the base64-decoded key, sent URL-encoded as
//! `type=master&ver=1.0&sig=<base64>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;

/// What the service's URL decoding leaves alone; everything else is percent-encoded.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The `authorization` header value for one request (already URL-encoded).
///
/// `resource_link` is the resource's path without a leading `/` (`dbs/db/colls/c/docs/id`, or
/// the parent collection's for a create or a query); `date` is the `x-ms-date` value.
///
/// ```
/// use cosmos_session_state::master_key_signature;
/// // The example of the REST API documentation.
/// let key = base64::Engine::decode(&base64::engine::general_purpose::STANDARD,
///     "dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw==").unwrap();
/// let header = master_key_signature(&key, "GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT");
/// // The documentation shows it with lower-case escapes (%3d); the service decodes either.
/// assert_eq!(header, "type%3Dmaster%26ver%3D1.0%26sig%3Dc09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu%2Bc%2Bc%3D");
/// ```
pub fn master_key_signature(
    key: &[u8],
    verb: &str,
    resource_type: &str,
    resource_link: &str,
    date: &str,
) -> String {
    let payload = format!(
        "{}\n{}\n{}\n{}\n\n",
        verb.to_lowercase(),
        resource_type.to_lowercase(),
        resource_link,
        date.to_lowercase()
    );
    // HMAC accepts keys of any length, so this never fails; an empty tag would only make the
    // service answer 401.
    let tag = Hmac::<Sha256>::new_from_slice(key)
        .map(|mut mac| {
            mac.update(payload.as_bytes());
            mac.finalize().into_bytes().to_vec()
        })
        .unwrap_or_default();
    let plain = format!("type=master&ver=1.0&sig={}", STANDARD.encode(tag));
    utf8_percent_encode(&plain, ENCODE).to_string()
}
