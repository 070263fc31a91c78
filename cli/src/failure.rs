//! Why `cst` stopped: no result (exit 1) or invalid input (exit 2) with the core's error code.

use cosmos_session_token::{Category, Code, Error};

/// Invalid input or usage: the stable code of the core's error table and the message.
pub struct Invalid {
    /// A code of the core's error table (`not_a_number`, `region_mismatch`, ...).
    pub code: Code,
    /// The one-line message.
    pub message: String,
}

impl Invalid {
    /// Prefixes the message (e.g. with the position of a token among several).
    pub fn context(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}{}", self.message);
        self
    }

    /// Adds a hint naming the flag to use, e.g. `pass --union-regions …`.
    pub fn hint(mut self, hint: &str) -> Self {
        self.message = format!("{} ({hint})", self.message);
        self
    }

    /// The code's category, from the core's table.
    pub fn category(&self) -> Category {
        self.code.category()
    }
}

/// Usage errors found by the CLI itself (a missing key, a second `-`).
impl From<String> for Invalid {
    fn from(message: String) -> Self {
        Invalid {
            code: Code::InvalidArgument,
            message,
        }
    }
}

impl From<&str> for Invalid {
    fn from(message: &str) -> Self {
        Invalid::from(message.to_owned())
    }
}

impl From<Error> for Invalid {
    fn from(e: Error) -> Self {
        Invalid {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

macro_rules! invalid_from_core {
    ($($t:ty),*) => {$(
        impl From<$t> for Invalid {
            fn from(e: $t) -> Self {
                Error::from(e).into()
            }
        }
    )*};
}
invalid_from_core!(
    cosmos_session_token::ParseError,
    cosmos_session_token::MergeError,
    cosmos_session_token::FeedRangeError,
    cosmos_session_token::SealError,
    cosmos_session_token::PartitionKeyError
);

/// Why `cst` stopped without printing a result.
pub enum Failure {
    /// Exit 1: the operation had no result.
    NoResult,
    /// Exit 2 (invalid input or usage) or 3 (the session store failed); the message is printed
    /// on stderr.
    Invalid(Invalid),
    /// The reader of standard output went away (`cst … | head`): stop quietly, exit 0.
    ClosedPipe,
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::ClosedPipe
        } else {
            Failure::Invalid(Invalid::from(format!("cannot write output: {e}")))
        }
    }
}

impl<E: Into<Invalid>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Invalid(e.into())
    }
}
