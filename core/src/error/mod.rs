//! Every error of the crate, and the one table of stable codes ([`ERROR_CODES`]) that every
//! surface (Rust, C, .NET, Python, the CLI) reports unchanged.

mod operations;
mod table;
mod token;

pub use operations::{ContainerError, FeedRangeError, PartitionKeyError, SealError};
pub use table::{Category, Code, ERROR_CODES, ErrorCode, error_code};
pub use token::{Field, MergeError, ParseError, ParseErrorKind};

/// Any error of this crate. [`Error::code`] is the stable code and [`Error::category`] its category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`ParseError`].
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// See [`MergeError`].
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// See [`ContainerError`](crate::ContainerError).
    #[error(transparent)]
    Container(crate::ContainerError),
    /// See [`FeedRangeError`](crate::FeedRangeError).
    #[error(transparent)]
    FeedRange(crate::FeedRangeError),
    /// See [`SealError`](crate::SealError).
    #[error(transparent)]
    Seal(crate::SealError),
    /// See [`PartitionKeyError`](crate::PartitionKeyError).
    #[error(transparent)]
    PartitionKey(crate::PartitionKeyError),
}

impl Error {
    /// The category of this error: how every surface reports it (C status, exception class).
    ///
    /// ```
    /// use cosmos_session_token::{Category, MergePolicy, SessionToken};
    /// let a = SessionToken::parse("0:1#5#1=1")?;
    /// let b = SessionToken::parse("0:1#5#2=1")?;
    /// let err = a.merge_with(&b, &MergePolicy::default()).unwrap_err();
    /// assert_eq!(cosmos_session_token::Error::from(err).category(), Category::Incompatible);
    /// # Ok::<(), cosmos_session_token::Error>(())
    /// ```
    pub fn category(&self) -> Category {
        self.code().category()
    }

    /// The stable identifier of the underlying error kind.
    pub fn code(&self) -> Code {
        match self {
            Error::Parse(e) => e.kind().code(),
            Error::Merge(e) => e.code(),
            Error::Container(e) => e.code(),
            Error::FeedRange(e) => e.code(),
            Error::Seal(e) => e.code(),
            Error::PartitionKey(e) => e.code(),
        }
    }
}

impl From<ContainerError> for Error {
    fn from(e: ContainerError) -> Self {
        Error::Container(e)
    }
}

impl From<FeedRangeError> for Error {
    fn from(e: FeedRangeError) -> Self {
        Error::FeedRange(e)
    }
}

impl From<PartitionKeyError> for Error {
    fn from(e: PartitionKeyError) -> Self {
        Error::PartitionKey(e)
    }
}

impl From<SealError> for Error {
    fn from(e: SealError) -> Self {
        Error::Seal(e)
    }
}
