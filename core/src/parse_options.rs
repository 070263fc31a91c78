//! How to parse: strict or lenient ([`Mode`]), and the size [`Limits`] both modes enforce (the
//! parser and the fast scanner read them; neither owns them).

/// Strict (the default) or lenient parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Reject anything the grammar does not allow.
    #[default]
    Strict,
    /// Normalise what old SDKs and hand edits produce, and report each change as a [`Warning`](crate::Warning):
    /// whitespace around segments, range ids and values; empty segments; a trailing `#`; empty
    /// region entries; `+` signs; leading zeros; `-0`; a negative global LSN; repeated region
    /// ids (the last one wins); repeated range ids (merged, with the union of their regions).
    Lenient,
}

/// Size limits applied while parsing. Exceeding one is a typed error, never an unbounded allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted input, in bytes (default 1 MiB).
    pub max_input_bytes: usize,
    /// Most `,`-separated segments, counting empty ones (default 65,536).
    pub max_segments: usize,
    /// Most regions in one value (default 256).
    pub max_regions: usize,
    /// Longest range id, in bytes (default 256).
    pub max_range_id_bytes: usize,
}

impl Limits {
    /// The defaults: 1 MiB, 65,536 segments, 256 regions per value, 256-byte range ids.
    pub const DEFAULT: Limits = Limits {
        max_input_bytes: 1 << 20,
        max_segments: 65_536,
        max_regions: 256,
        max_range_id_bytes: crate::range_id::MAX_BYTES,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// How to parse: [`Mode`] and [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// Strict or lenient.
    pub mode: Mode,
    /// Size limits.
    pub limits: Limits,
}

impl ParseOptions {
    /// Strict parsing with default limits.
    pub const STRICT: ParseOptions = ParseOptions {
        mode: Mode::Strict,
        limits: Limits::DEFAULT,
    };
    /// Lenient parsing with default limits.
    pub const LENIENT: ParseOptions = ParseOptions {
        mode: Mode::Lenient,
        limits: Limits::DEFAULT,
    };
}
