//! A flow carried in a message (a queue, a topic, an RPC): the producer's whole flow — its
//! progress and its routing knowledge, so the consumer's first request is already scoped — as a
//! bounded snapshot, sealed when the transport is not trusted.

use super::session::SessionFlow;
use crate::envelope::{Keyring, Refusal};
use crate::error::{ContainerError, Error, SealError};

/// Default budget of a flow in a message, in bytes: brokers bound a message's properties
/// (Azure Service Bus: 64 KB of headers on the standard tier), and a flow shares them.
pub const MESSAGE_FLOW_BUDGET: usize = 60 * 1024;

/// What a sealed message flow is bound to besides its context.
const PURPOSE: &str = "cosmos-session-token/flow-message/v1";

impl SessionFlow {
    /// The [`snapshot`](Self::snapshot), or `snapshot_too_large` when it is longer than
    /// `max_bytes` (a message's budget, e.g. [`MESSAGE_FLOW_BUDGET`]).
    pub fn snapshot_within(&self, max_bytes: usize) -> Result<String, Error> {
        let text = self.snapshot();
        if text.len() > max_bytes {
            return Err(ContainerError::SnapshotTooLarge {
                what: "bytes of flow snapshot",
                len: text.len(),
                max: max_bytes,
            }
            .into());
        }
        Ok(text)
    }
}

/// Seals a flow for a message: its snapshot in a `cst2` envelope bound to `context` (e.g. the
/// queue's name), within `max_bytes`.
///
/// ```
/// use cosmos_session_token::{SessionFlow, seal_flow, unseal_flow};
/// let key = b"0123456789abcdef0123456789abcdef";
/// let flow = SessionFlow::new();
/// flow.after_response("POST", "/dbs/d/colls/c/docs", 201, &[("x-ms-session-token", "0:1#9#0=9")], None);
/// let sealed = seal_flow(&flow, key, "orders-queue", 60 * 1024)?;
/// let consumer = unseal_flow(&sealed, &[&key[..]], "orders-queue", 60 * 1024)?;
/// assert_eq!(consumer.snapshot(), flow.snapshot());
/// assert_eq!(unseal_flow(&sealed, &[&key[..]], "other-queue", 60 * 1024).unwrap_err().code(), "bad_signature");
/// # Ok::<(), cosmos_session_token::Error>(())
/// ```
pub fn seal_flow(
    flow: &SessionFlow,
    key: &[u8],
    context: &str,
    max_bytes: usize,
) -> Result<String, Error> {
    let ring = Keyring::new(&[key])?;
    Ok(ring.seal(PURPOSE, context, flow.snapshot().as_bytes(), max_bytes)?)
}

/// The flow of a [`seal_flow`] envelope, checked against any of `keys` and `context`: a seal
/// error for anything not sealed by one of the keys for this context (`bad_signature`), not an
/// envelope (`malformed_seal`) or over `max_bytes` (`seal_too_large`); the snapshot's own typed
/// errors for a genuine envelope whose flow cannot be read.
pub fn unseal_flow(
    sealed: &str,
    keys: &[&[u8]],
    context: &str,
    max_bytes: usize,
) -> Result<SessionFlow, Error> {
    let ring = Keyring::new(keys)?;
    let payload =
        ring.open(PURPOSE, context, sealed, max_bytes)
            .map_err(|refusal| match refusal {
                Refusal::Malformed => SealError::Malformed("not a sealed flow (cst2.…)"),
                Refusal::TooLarge => SealError::TooLarge {
                    len: sealed.len(),
                    max: max_bytes,
                },
                Refusal::UnknownKey | Refusal::ForeignContext | Refusal::Forged => {
                    SealError::BadSignature
                }
            })?;
    let text = std::str::from_utf8(&payload)
        .map_err(|_| ContainerError::InvalidSnapshot("flow snapshot: not UTF-8".into()))?;
    SessionFlow::restore(text)
}
