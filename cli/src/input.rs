//! Reading tokens from arguments or, for `-`, from standard input (one per line).

use crate::failure::Invalid;
use std::io::Read;

use cosmos_session_token::{FeedRange, ParseOptions, SessionToken, parse_pair_token};

/// Most bytes read from standard input: enough for many maximal (1 MiB) tokens, yet bounded.
const MAX_STDIN_BYTES: u64 = 64 << 20;

pub struct Tokens {
    options: ParseOptions,
    stdin_used: bool,
}

impl Tokens {
    pub fn new(lenient: bool) -> Self {
        Tokens {
            options: if lenient {
                ParseOptions::LENIENT
            } else {
                ParseOptions::STRICT
            },
            stdin_used: false,
        }
    }

    /// Parses each argument; `-` stands for every non-empty line of standard input.
    /// Lenient-mode warnings go to stderr, prefixed with the token's position.
    pub fn parse_all(&mut self, args: &[String]) -> Result<Vec<SessionToken>, Invalid> {
        let texts = self.expand(args)?;
        let many = texts.len() > 1;
        texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let which = if many {
                    // 0-based, as every position in messages (segments, pairs) is.
                    format!("token {i}: ")
                } else {
                    String::new()
                };
                let parsed = SessionToken::parse_with(text, &self.options).map_err(|e| {
                    let invalid =
                        Invalid::from(e).context(&format!("{which}invalid session token: "));
                    // Name the flag when it would help: the token parses leniently.
                    let lenient = SessionToken::parse_with(text, &ParseOptions::LENIENT);
                    if self.options != ParseOptions::LENIENT && lenient.is_ok() {
                        invalid.hint("it parses with --lenient, which reports what it normalises")
                    } else {
                        invalid
                    }
                })?;
                for w in &parsed.warnings {
                    eprintln!("cst: warning: {which}{w}");
                }
                Ok(parsed.token)
            })
            .collect()
    }

    /// Parses `MIN-MAX=TOKEN` pairs (`-` reads one pair per line). Tokens are parsed leniently,
    /// as every feed-range surface does.
    pub fn pairs(&mut self, args: &[String]) -> Result<Vec<(FeedRange, SessionToken)>, Invalid> {
        let texts = self.expand(args)?;
        texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let which = i; // 0-based, like the core's own pair positions
                let (range, token) = text
                    .split_once('=')
                    .ok_or_else(|| format!("pair {which}: {text:?} is not MIN-MAX=TOKEN"))?;
                let range = FeedRange::parse(range)
                    .map_err(|e| Invalid::from(e).context(&format!("pair {which}: ")))?;
                let token = parse_pair_token(token).map_err(|e| {
                    Invalid::from(e).context(&format!("pair {which}: invalid session token: "))
                })?;
                Ok((range, token))
            })
            .collect()
    }

    /// Parses exactly `N` (1 or 2) tokens (after `-` expansion); `what` names the subcommand in the error.
    pub fn exactly<const N: usize>(
        &mut self,
        args: &[String],
        what: &str,
    ) -> Result<[SessionToken; N], Invalid> {
        let parsed = self.parse_all(args)?;
        let got = parsed.len();
        parsed.try_into().map_err(|_| {
            let n = if N == 1 { "one token" } else { "two tokens" };
            Invalid::from(format!("{what} needs exactly {n}, got {got}"))
        })
    }

    /// The arguments with `-` replaced by the non-empty lines of standard input.
    fn expand(&mut self, args: &[String]) -> Result<Vec<String>, Invalid> {
        let mut texts = Vec::with_capacity(args.len());
        for arg in args {
            if arg == "-" {
                texts.extend(self.read_stdin()?);
            } else {
                texts.push(arg.clone());
            }
        }
        Ok(texts)
    }

    /// The single non-empty line of standard input.
    pub fn stdin_line(&mut self) -> Result<String, Invalid> {
        let mut lines = self.read_stdin()?;
        if lines.len() != 1 {
            return Err(format!("expected one line on standard input, got {}", lines.len()).into());
        }
        Ok(lines.remove(0))
    }

    fn read_stdin(&mut self) -> Result<Vec<String>, Invalid> {
        if std::mem::replace(&mut self.stdin_used, true) {
            return Err("'-' (standard input) can be given only once".into());
        }
        let mut buf = Vec::new();
        std::io::stdin()
            .take(MAX_STDIN_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        if buf.len() as u64 > MAX_STDIN_BYTES {
            return Err(format!("standard input is larger than {MAX_STDIN_BYTES} bytes").into());
        }
        let text = String::from_utf8(buf).map_err(|e| {
            format!(
                "standard input is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            )
        })?;
        let lines: Vec<String> = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if lines.is_empty() {
            return Err("standard input holds no token".into());
        }
        Ok(lines)
    }
}
