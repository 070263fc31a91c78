//! The envelope's version tag and bounds: plain constants, so the error messages that name them
//! need nothing else of the seal.

/// Version tag of the envelope format.
pub const SEAL_VERSION_TAG: &str = "cst1";
/// Shortest key accepted, in bytes.
pub const MIN_SEAL_KEY_BYTES: usize = 16;
/// Default size budget of a sealed token: cookies hold about 4 KB.
pub const DEFAULT_SEAL_BUDGET: usize = 4000;

/// Most keys one unseal or carrier accepts (rotation needs two or three; every key costs one MAC
/// per unseal, so the list is bounded on every surface).
pub const MAX_SEAL_KEYS: usize = 1024;
