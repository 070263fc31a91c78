//! `cst`: look at and manipulate Azure Cosmos DB session tokens from logs, cookies and traces.
//!
//! Exit codes: 0 success; 1 no result (`scope` found nothing); 2 invalid input or usage; 3 the
//! session store failed (unreachable, throttled, refused, undecodable content).

mod explain;
mod failure;
mod flow;
mod input;
mod remote;
mod routing;
mod state;

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use cosmos_session_token::{
    Category, FeedRange, Format, MergePolicy, RegionMismatch, SessionToken, latest_for_feed_range,
    latest_token_for_feed_range,
};

use failure::{Failure, Invalid};
use input::Tokens;

#[derive(Parser)]
#[command(
    name = "cst",
    version,
    about = "Explain, convert, merge, compare and scope Azure Cosmos DB session tokens",
    after_help = "A TOKEN is an x-ms-session-token value such as '0:1#100#1=20,1:-1#42'.\n\
                  Pass '-' instead of a token to read one token per line from standard input.\n\
                  Exit codes: 0 success, 1 no result, 2 invalid input or usage, 3 the session store failed."
)]
struct Cli {
    /// How to print an error on stderr: one text line, or one JSON line
    /// {"error":{"code","category","message"}} with the stable code of the error table.
    #[arg(long, global = true, value_enum, default_value = "text")]
    error_format: ErrorFormat,
    /// Print results as JSON: one object per line (shapes in docs/cli.md).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// How the token subcommands parse (offered only on the subcommands that read tokens).
#[derive(Args, Clone, Copy, Default)]
struct Parsing {
    /// Accept tokens from old SDKs or hand edits (whitespace, empty segments, '+', leading
    /// zeros, trailing '#', repeated ids); what was normalised is reported on stderr.
    #[arg(long)]
    lenient: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Show each segment: range id, format, version, global LSN and regions.
    #[command(
        after_help = "Examples:\n  cst explain '0:1#100#1=20#2=-1,1:-1#42'\n  \
                            cst explain --json '0:1#100#1=20'\n  \
                            cst explain --lenient ' 0:1#007#,,1:5'"
    )]
    Explain {
        #[command(flatten)]
        parsing: Parsing,
        /// The token.
        token: String,
    },
    /// Convert every segment to the simple (SDK v1, lossy) or vector (SDK v2+) format.
    #[command(
        after_help = "Examples:\n  cst convert --to simple '0:1#100#1=20,1:-1#42'   # 0:100,1:42\n  \
                            cst convert --to vector '7:8,6:2008'               # 7:-2#8,6:-2#2008"
    )]
    Convert {
        #[command(flatten)]
        parsing: Parsing,
        /// Target format.
        #[arg(long, value_enum)]
        to: FormatArg,
        /// The token.
        token: String,
    },
    /// Merge tokens into the least token at least as new as each of them.
    #[command(
        after_help = "Examples:\n  cst merge '0:1#100#1=20' '0:1#101#1=10,1:-1#42'   # 0:1#101#1=20,1:-1#42\n  \
                            cst merge --union-regions '0:1#101#1=20' '0:1#100#4=20'\n  \
                            cat tokens.txt | cst merge -"
    )]
    Merge {
        #[command(flatten)]
        parsing: Parsing,
        /// Same version but different regions: take the union instead of failing.
        #[arg(long)]
        union_regions: bool,
        /// On a version change keep the max global LSN (no false-progress protection).
        #[arg(long)]
        legacy_max_global_lsn: bool,
        /// The tokens (one or more, or '-' to read them from standard input).
        #[arg(required = true, num_args = 1..)]
        tokens: Vec<String>,
    },
    /// Print how A relates to B: less, equal, greater or concurrent.
    #[command(
        after_help = "Examples:\n  cst compare '0:1#100#1=20' '0:2#97#1=20'   # less\n  \
                            cst compare '0:1#100,1:1#7' '0:1#90'      # greater\n  \
                            cst compare --explain '0:1#90#1=15' '0:1#100#1=20'   # less, and by how much"
    )]
    Compare {
        #[command(flatten)]
        parsing: Parsing,
        /// Also print what each token lacks of the other, per range and region and by how much
        /// (why a read presenting A is not satisfied by a replica at B, or the reverse).
        #[arg(long)]
        explain: bool,
        /// First token.
        a: String,
        /// Second token.
        b: String,
    },
    /// Print the effective partition key of a partition key value (upper-case hex).
    #[command(
        after_help = "Examples:\n  cst epk '\"partitionKey\"'                       # 013AEFCF77FA271571CF665A58C933F1\n  \
                            cst epk --version 1 '\"partitionKey\"'\n  \
                            cst epk --kind multihash --levels 3 '[\"tenant-1\",\"user-7\"]'   # a prefix"
    )]
    Epk(routing::EpkArgs),
    /// Print the token to send for a partition key or a feed range: only the segments of the
    /// ranges it touches (found through the parents after splits and merges); without a token,
    /// the ranges. The ranges come from a file, or from the account (--container).
    #[command(
        after_help = "Examples:\n  cst route --pkranges pkranges.json --partition-key '\"user-42\"' '0:1#5,1:1#9'\n  \
                            cst route --pkranges pkranges.json --feed-range 00-80 '0:1#5,1:1#9'\n  \
                            COSMOS_CONNECTION_STRING='AccountEndpoint=…;AccountKey=…;' \\\n    \
                            cst route --container dbs/shop/colls/orders --partition-key '\"user-42\"'   # the range id\n\
                            pkranges.json is the body of GET dbs/{db}/colls/{coll}/pkranges. Exit 1: no segment applies;\n\
                            exit 3: the account could not be read (unreachable, refused, no such container)."
    )]
    Route(routing::RouteArgs),
    /// Print the latest token covering a target feed range, from (feed range, token) pairs.
    #[command(
        after_help = "PAIR is MIN-MAX=TOKEN with hex bounds of [MIN,MAX) ('' = start, FF = end).\n\
                            Examples:\n  cst latest --target AA-DD 'AA-DD=0:1#51#3=52' 'AA-BB=1:1#55#3=52' 'BB-DD=2:1#54#3=52'\n  \
                            # 1:1#55#3=52,2:1#54#3=52 (a split: the children replace the parent)\n  \
                            cst latest --explain --target -FF '-FF=3:1#60' '-80=1:1#54'   # a merge"
    )]
    Latest {
        #[command(flatten)]
        parsing: Parsing,
        /// Target feed range, MIN-MAX.
        #[arg(long, allow_hyphen_values = true)]
        target: String,
        /// Also print, on stderr, what happened to each pair.
        #[arg(long)]
        explain: bool,
        /// The pairs MIN-MAX=TOKEN (or '-': one pair per line on stdin).
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        pairs: Vec<String>,
    },
    /// Seal a token for a context into a cookie-safe, HMAC-signed envelope.
    #[command(
        after_help = "Keys come from files (raw bytes) or environment variables (their value's bytes), never\n\
                            from the command line; at least 16 bytes.\n\
                            Examples:\n  head -c 32 /dev/urandom > key.bin\n  \
                            cst seal --key-file key.bin --context 'user-42|orders' '0:1#100#1=20'\n  \
                            CST_KEY=... cst seal --key-env CST_KEY '0:1#100#1=20'"
    )]
    Seal {
        #[command(flatten)]
        parsing: Parsing,
        #[command(flatten)]
        keys: KeyArgs,
        /// What the envelope is bound to (e.g. user id + container); must match on unseal.
        #[arg(long, default_value = "")]
        context: String,
        /// Size budget of the sealed text in bytes.
        #[arg(long, default_value_t = cosmos_session_token::DEFAULT_SEAL_BUDGET)]
        max_bytes: usize,
        /// The token.
        token: String,
    },
    /// Check a sealed token (any of the keys; the context must match) and print the token.
    #[command(
        after_help = "Give several --key-file/--key-env for key rotation: any of them is accepted.\n\
                            Examples:\n  cst unseal --key-file key.bin --context 'user-42|orders' \"$COOKIE\"   # prints the token\n  \
                            cst unseal --key-file new.bin --key-file old.bin \"$COOKIE\""
    )]
    Unseal {
        #[command(flatten)]
        keys: KeyArgs,
        /// The context the token was sealed for.
        #[arg(long, default_value = "")]
        context: String,
        /// Largest sealed text accepted, in bytes.
        #[arg(long, default_value_t = cosmos_session_token::DEFAULT_SEAL_BUDGET)]
        max_bytes: usize,
        /// The sealed token (or '-' for standard input).
        sealed: String,
    },
    /// Print the token to send for one partition key range (exit 1 when nothing applies).
    #[command(
        after_help = "Examples:\n  cst scope '0:1#100#1=20,1:-1#42' 1                       # 1:-1#42\n  \
                            cst scope '0:1#100#1=20,1:1#99#1=30' 2 --parent 0 --parent 1   # 2:1#100#1=30"
    )]
    Scope {
        #[command(flatten)]
        parsing: Parsing,
        /// The token.
        token: String,
        /// Target range id.
        range: String,
        /// A parent range of the target (after a split or a partition merge); repeatable.
        #[arg(long = "parent", value_name = "P")]
        parents: Vec<String>,
    },
    /// Session state kept in Cosmos DB: show a session, break a stuck lock.
    #[command(subcommand)]
    State(state::StateCommand),
    /// Session flows: show what a flow snapshot holds.
    #[command(subcommand)]
    Flow(flow::FlowCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    #[command(after_help = "Example:\n  cst completions bash > /etc/bash_completion.d/cst")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `cst man > cst.1`; with --out-dir, write it and the
    /// subcommands' pages it refers to (cst-explain.1, ...) into a directory.
    #[command(
        after_help = "Examples:\n  cst man > cst.1\n  cst man --out-dir /usr/local/share/man/man1   # cst.1, cst-explain.1, ..."
    )]
    Man {
        /// Write every page (cst.1 and one per subcommand) into this directory instead.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<std::path::PathBuf>,
    },
}

/// Where keys come from: never the command line itself (it ends up in shell history and `ps`).
#[derive(clap::Args)]
struct KeyArgs {
    /// A file holding a key (raw bytes, at most 4 KiB). Repeatable for key rotation: `seal` uses
    /// the first key, `unseal` accepts any of them.
    #[arg(long = "key-file", value_name = "PATH")]
    files: Vec<std::path::PathBuf>,
    /// An environment variable holding a key. Repeatable; files come first.
    #[arg(long = "key-env", value_name = "VAR")]
    envs: Vec<String>,
}

/// Largest key file read, in bytes: a key is tens of bytes; a mistaken path (a log, a disk
/// image, `/dev/zero`) must not be read whole.
const MAX_KEY_FILE_BYTES: u64 = 4096;

impl KeyArgs {
    fn load(&self) -> Result<Vec<Vec<u8>>, String> {
        use std::io::Read;
        let mut keys = Vec::new();
        for path in &self.files {
            let shown = path.display();
            let file = std::fs::File::open(path).map_err(|e| format!("--key-file {shown}: {e}"))?;
            let mut key = Vec::new();
            file.take(MAX_KEY_FILE_BYTES + 1)
                .read_to_end(&mut key)
                .map_err(|e| format!("--key-file {shown}: {e}"))?;
            if key.len() as u64 > MAX_KEY_FILE_BYTES {
                return Err(format!(
                    "--key-file {shown}: more than {MAX_KEY_FILE_BYTES} bytes: not a key file"
                ));
            }
            keys.push(key);
        }
        for var in &self.envs {
            let key = std::env::var_os(var)
                .ok_or_else(|| format!("--key-env {var}: the variable is not set"))?;
            keys.push(key.into_encoded_bytes());
        }
        if keys.is_empty() {
            return Err("give a key with --key-file PATH or --key-env VAR".into());
        }
        Ok(keys)
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ErrorFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Simple,
    Vector,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json_errors = matches!(cli.error_format, ErrorFormat::Json);
    let mut out = std::io::stdout().lock();
    let result = run(cli, &mut out).and_then(|()| out.flush().map_err(Failure::from));
    match result {
        Ok(()) | Err(Failure::ClosedPipe) => ExitCode::SUCCESS,
        Err(Failure::NoResult) => ExitCode::from(1),
        Err(Failure::Invalid(e)) => {
            let _ = out.flush();
            if json_errors {
                let line = serde_json::json!({"error": {
                    "code": e.code, "category": e.category().name(), "message": e.message,
                }});
                eprintln!("{line}");
            } else {
                eprintln!("cst: error: {}", e.message);
            }
            // The exit-code table: 0 success, 1 no result, 2 invalid input or usage, 3 the
            // session store failed (unreachable, throttled, refused, undecodable).
            if e.category() == Category::Store {
                ExitCode::from(3)
            } else {
                ExitCode::from(2)
            }
        }
    }
}

/// Prints one result: the text line, or `{"<key>": <value>}` with --json.
fn emit(out: &mut impl Write, json: bool, key: &str, value: &str) -> std::io::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::json!({ key: value }))
    } else {
        writeln!(out, "{value}")
    }
}

impl Command {
    /// The parsing options of a subcommand that reads tokens (the defaults for the others).
    fn parsing(&self) -> Parsing {
        match self {
            Command::Explain { parsing, .. }
            | Command::Convert { parsing, .. }
            | Command::Merge { parsing, .. }
            | Command::Compare { parsing, .. }
            | Command::Latest { parsing, .. }
            | Command::Seal { parsing, .. }
            | Command::Scope { parsing, .. } => *parsing,
            _ => Parsing::default(),
        }
    }
}

fn run(cli: Cli, out: &mut impl Write) -> Result<(), Failure> {
    let mut tokens = Tokens::new(cli.command.parsing().lenient);
    let json = cli.json;
    match cli.command {
        Command::Explain { token, .. } => {
            for t in tokens.parse_all(&[token])? {
                explain::print(&t, json, out)?;
            }
        }
        Command::Convert { to, token, .. } => {
            let format = match to {
                FormatArg::Simple => Format::Simple,
                FormatArg::Vector => Format::Vector,
            };
            for t in tokens.parse_all(&[token])? {
                emit(out, json, "token", &t.convert(format).to_string())?;
            }
        }
        Command::Merge {
            union_regions,
            legacy_max_global_lsn,
            tokens: args,
            ..
        } => {
            let policy = MergePolicy {
                region_mismatch: if union_regions {
                    RegionMismatch::Union
                } else {
                    RegionMismatch::Error
                },
                false_progress_protection: !legacy_max_global_lsn,
            };
            let parsed = tokens.parse_all(&args)?;
            let merged = SessionToken::merge_all(&parsed, &policy).map_err(|e| {
                Invalid::from(e).hint("pass --union-regions to combine the region sets")
            })?;
            match merged {
                Some(merged) => emit(out, json, "token", &merged.to_string())?,
                None => return Err(Invalid::from("no tokens to merge").into()),
            }
        }
        Command::Epk(args) => routing::epk(args, json, out)?,
        Command::Route(args) => routing::route(args, json, out)?,
        Command::Compare { a, b, explain, .. } => {
            let [a, b] = tokens.exactly::<2>(&[a, b], "compare")?;
            if explain {
                explain::print_comparison(&a.compare_explained(&b), json, out)?;
            } else {
                emit(out, json, "order", a.compare(&b).as_str())?;
            }
        }
        Command::Latest {
            target,
            explain,
            pairs,
            ..
        } => {
            let target = FeedRange::parse(&target).map_err(|e| format!("--target: {e}"))?;
            let pairs = tokens.pairs(&pairs)?;
            // The per-pair explanation is computed only when asked for.
            let result = if explain {
                latest_for_feed_range(&pairs, &target).map(|l| {
                    let lines = l.explain(&pairs);
                    (l.token, Some(lines))
                })
            } else {
                latest_token_for_feed_range(&pairs, &target).map(|t| (t, None))
            };
            let (token, explanation) = match result {
                Ok(found) => found,
                // No pair overlaps the target: no result (exit 1), like scope.
                Err(e) if e.category() == Category::NotFound => {
                    return Err(Failure::NoResult);
                }
                Err(e) => return Err(e.into()),
            };
            if json {
                let mut v = serde_json::json!({"token": token.to_string()});
                if let Some(lines) = &explanation {
                    v["explanation"] = serde_json::json!(lines);
                }
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "{token}")?;
                for line in explanation.iter().flatten() {
                    eprintln!("{line}");
                }
            }
        }
        Command::Seal {
            keys,
            context,
            max_bytes,
            token,
            ..
        } => {
            let keys = keys.load()?;
            let [token] = tokens.exactly::<1>(&[token], "seal")?;
            let sealed = cosmos_session_token::seal(&token, &keys[0], &context, max_bytes)?;
            emit(out, json, "sealed", &sealed)?;
        }
        Command::Unseal {
            keys,
            context,
            max_bytes,
            sealed,
        } => {
            let keys = keys.load()?;
            let sealed = if sealed == "-" {
                tokens.stdin_line()?
            } else {
                sealed
            };
            let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            let token = cosmos_session_token::unseal(&sealed, &refs, &context, max_bytes)?;
            emit(out, json, "token", &token.to_string())?;
        }
        Command::State(command) => state::run(command, json, out)?,
        Command::Flow(command) => flow::run(command, json, out)?,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "cst", out);
        }
        Command::Man { out_dir: None } => clap_mangen::Man::new(Cli::command()).render(out)?,
        Command::Man { out_dir: Some(dir) } => clap_mangen::generate_to(Cli::command(), &dir)
            .map_err(|e| {
                Failure::Invalid(Invalid::from(format!(
                    "cannot write the manual pages into {}: {e}",
                    dir.display()
                )))
            })?,
        Command::Scope {
            token,
            range,
            parents,
            ..
        } => {
            let [token] = tokens.exactly::<1>(&[token], "scope")?;
            let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
            match token.scope(&range, &parents)? {
                Some(scoped) => emit(out, json, "token", &scoped.to_string())?,
                None => {
                    if json {
                        writeln!(out, "{}", serde_json::json!({"token": null}))?;
                    }
                    return Err(Failure::NoResult);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
