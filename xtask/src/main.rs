//! Repository tasks. `cargo run -p xtask -- header` regenerates `ffi/include/cstoken.h` with the
//! pinned cbindgen; `cargo run -p xtask -- header --check` fails when the committed header differs
//! from a fresh generation (kept out of `ffi`'s build so consumers never compile cbindgen).
//! `cargo run -p xtask -- versions` checks that every place that spells the version (the C
//! pkg-config template, the .NET assembly attributes, the npm package, the workspace dependencies)
//! spells the workspace version (one version source), and that the header and the .NET wrapper
//! spell the C ABI version of `ffi/src/status.rs`. `cargo run -p xtask -- print version|abi`
//! prints the workspace version or the C ABI version, for the scripts and the Makefile (one
//! reader of each source instead of a `sed` expression per script).
//! `cargo run -p xtask -- names` checks every function of the header against the naming rule the
//! header's preamble states (`cst_<type>_<verb>[_<rest>]`, its lists of nouns and verbs); `header
//! --check` runs it too, and so does this crate's test (no exceptions).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[cfg(feature = "header")]
fn generate(ffi_dir: &Path) -> Result<String, String> {
    let config = cbindgen::Config::from_file(ffi_dir.join("cbindgen.toml"))
        .map_err(|e| format!("ffi/cbindgen.toml: {e}"))?;
    let bindings = cbindgen::Builder::new()
        .with_crate(ffi_dir)
        .with_config(config)
        .generate()
        .map_err(|e| format!("cbindgen could not generate the header: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).map_err(|e| format!("generated header is not UTF-8: {e}"))
}

fn run(args: &[String]) -> Result<(), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or("xtask has no parent directory")?;
    #[cfg(feature = "header")]
    let ffi_dir = root.join("ffi");
    #[cfg(feature = "header")]
    let header = ffi_dir.join("include/cstoken.h");
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        #[cfg(feature = "header")]
        ["header"] => {
            let text = generate(&ffi_dir)?;
            std::fs::write(&header, text).map_err(|e| format!("{}: {e}", header.display()))?;
            println!("wrote {}", header.display());
            Ok(())
        }
        #[cfg(feature = "header")]
        ["header", "--check"] => {
            let fresh = generate(&ffi_dir)?;
            let committed = std::fs::read_to_string(&header)
                .map_err(|e| format!("{}: {e}", header.display()))?;
            if fresh == committed {
                println!("{} is up to date", header.display());
                let n = check_names(&committed)?;
                println!("its {n} functions follow the naming rule");
                Ok(())
            } else {
                Err(format!(
                    "{} differs from a fresh generation: run `cargo run -p xtask -- header` and commit it",
                    header.display()
                ))
            }
        }
        ["names"] => {
            let path = root.join("ffi/include/cstoken.h");
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let n = check_names(&text)?;
            println!("the header's {n} functions follow the naming rule");
            Ok(())
        }
        ["versions"] => check_versions(&root),
        ["print", "version"] => {
            println!("{}", workspace_version(&root)?);
            Ok(())
        }
        ["print", "abi"] => {
            println!("{}", abi_version(&root)?.0);
            Ok(())
        }
        _ => Err(
            "usage: cargo run -p xtask -- header [--check] | names | versions | print version|abi"
                .to_owned(),
        ),
    }
}

/// The `[workspace.package]` version of the root `Cargo.toml`.
fn workspace_version(root: &Path) -> Result<String, String> {
    let manifest =
        std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    let doc: toml::Table = manifest.parse().map_err(|e| format!("Cargo.toml: {e}"))?;
    doc.get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| "Cargo.toml has no [workspace.package] version".to_owned())
}

/// The C ABI version `ffi/src/status.rs` defines, with that file's text (the constants' source).
fn abi_version(root: &Path) -> Result<(String, String), String> {
    let status = std::fs::read_to_string(root.join("ffi/src/status.rs"))
        .map_err(|e| format!("ffi/src/status.rs: {e}"))?;
    let abi = status
        .lines()
        .find_map(|l| l.trim().strip_prefix("pub const CST_ABI_VERSION: u32 = "))
        .and_then(|v| v.strip_suffix(';'))
        .ok_or("ffi/src/status.rs has no CST_ABI_VERSION")?
        .to_owned();
    Ok((abi, status))
}

/// The workspace version, and every file that must spell it (in the form given).
fn check_versions(root: &Path) -> Result<(), String> {
    let version = workspace_version(root)?;
    let four = format!("{version}.0");
    let expected: Vec<(&str, String)> = vec![
        (
            "bindings/js/package.json",
            format!("\"version\": \"{version}\","),
        ),
        (
            "bindings/dotnet/src/CosmosSessionToken/AssemblyInfo.cs",
            format!("AssemblyVersion(\"{four}\")"),
        ),
        (
            "bindings/dotnet/src/CosmosSessionToken/AssemblyInfo.cs",
            format!("AssemblyFileVersion(\"{four}\")"),
        ),
        (
            "bindings/dotnet/src/CosmosSessionToken.AspNet/AssemblyInfo.cs",
            format!("AssemblyVersion(\"{four}\")"),
        ),
        (
            "bindings/dotnet/src/CosmosSessionToken.AspNet/AssemblyInfo.cs",
            format!("AssemblyFileVersion(\"{four}\")"),
        ),
        (
            "Cargo.toml",
            format!("cosmos-session-token = {{ path = \"core\", version = \"{version}\" }}"),
        ),
        (
            "Cargo.toml",
            format!("cosmos-session-state = {{ path = \"state\", version = \"{version}\" }}"),
        ),
    ];
    // The ABI version: one source (ffi/src/status.rs), spelt by the header and the .NET wrapper.
    let (abi, status) = abi_version(root)?;
    let mut expected = expected;
    expected.push((
        "ffi/include/cstoken.h",
        format!("#define CST_ABI_VERSION {abi}"),
    ));
    expected.push((
        "bindings/dotnet/src/CosmosSessionToken/NativeMethods.cs",
        format!("ExpectedAbiVersion = {abi};"),
    ));
    let mut wrong = Vec::new();
    // Every CST_* constant the .NET wrapper spells has the value ffi/src/status.rs gives it.
    let constants: std::collections::HashMap<&str, &str> = status
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let value = rest.split_once('=')?.1.trim().strip_suffix(';')?;
            Some((name.trim(), value))
        })
        .collect();
    let native = std::fs::read_to_string(
        root.join("bindings/dotnet/src/CosmosSessionToken/NativeMethods.cs"),
    )
    .map_err(|e| format!("NativeMethods.cs: {e}"))?;
    let mut checked = 0;
    for line in native.lines() {
        let line = line.trim();
        let Some(rest) = line
            .strip_prefix("internal const int ")
            .or_else(|| line.strip_prefix("internal const uint "))
        else {
            continue;
        };
        let Some((name, value)) = rest.split_once('=') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim().trim_end_matches(';').trim());
        if !name.starts_with("CST_") {
            continue;
        }
        checked += 1;
        match constants.get(name) {
            Some(v) if *v == value => {}
            Some(v) => wrong.push(format!(
                "NativeMethods.cs says {name} = {value}, ffi/src/status.rs says {v}"
            )),
            None => wrong.push(format!(
                "NativeMethods.cs has {name}, which ffi/src/status.rs does not define"
            )),
        }
    }
    if checked < 13 {
        wrong.push(format!(
            "NativeMethods.cs: only {checked} CST_* constants found (the parser no longer matches it)"
        ));
    }
    for (file, text) in &expected {
        let content =
            std::fs::read_to_string(root.join(file)).map_err(|e| format!("{file}: {e}"))?;
        if !content.contains(text.as_str()) {
            wrong.push(format!("{file} does not contain `{text}`"));
        }
    }
    if wrong.is_empty() {
        println!(
            "every version is {version}, every ABI version {abi}, and the .NET wrapper's {checked} CST_* constants match the C ABI's"
        );
        Ok(())
    } else {
        Err(format!(
            "the workspace version is {version}, but:\n  {}",
            wrong.join("\n  ")
        ))
    }
}

/// The words of the preamble list that starts with `label` (e.g. "Nouns:"), up to the first
/// word ending in '.': the rule's own lists, so the header states what this check enforces.
fn preamble_list(header: &str, label: &str) -> Result<Vec<String>, String> {
    let start = header
        .find(label)
        .ok_or_else(|| format!("the header's preamble has no `{label}` list"))?;
    let mut words = Vec::new();
    for line in header[start + label.len()..].lines() {
        let line = line.trim_start().trim_start_matches('*');
        for word in line.split(',') {
            let word = word.trim();
            let (word, last) = match word.strip_suffix('.') {
                Some(w) => (w, true),
                None => (word, false),
            };
            if !word.is_empty() {
                words.push(word.to_owned());
            }
            if last {
                return Ok(words);
            }
        }
    }
    Err(format!("the preamble's `{label}` list has no final '.'"))
}

/// The header without its comments.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
    }
    out.push_str(rest);
    out
}

/// The names of the functions the header declares (an identifier `cst_…` followed by `(`).
fn header_functions(header: &str) -> Vec<String> {
    let code = strip_comments(header);
    let mut names = Vec::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("cst_") {
        let before = rest[..i].chars().next_back();
        let tail = &rest[i..];
        let len = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let after = tail[len..].trim_start();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') && after.starts_with('(')
        {
            names.push(tail[..len].to_owned());
        }
        rest = &tail[len..];
    }
    names.sort();
    names.dedup();
    names
}

/// Checks every function of the header against the naming rule of its preamble: `cst_<type>_
/// <verb>[_<rest>]`, `<type>` a handle (`typedef struct cst_x cst_x;`) or a listed noun (the
/// longest match), `<verb>` a listed verb. Returns how many functions were checked.
fn check_names(header: &str) -> Result<usize, String> {
    let mut types = preamble_list(header, "Nouns:")?;
    let verbs = preamble_list(header, "Verbs:")?;
    for line in header.lines() {
        if let Some(rest) = line.strip_prefix("typedef struct cst_") {
            if let Some((name, alias)) = rest.split_once(' ') {
                if alias.trim_end_matches(';') == format!("cst_{name}") {
                    types.push(name.to_owned());
                }
            }
        }
    }
    // Longest first, so the longest matching type wins.
    types.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let functions = header_functions(header);
    let mut wrong = Vec::new();
    for f in &functions {
        let Some(body) = f.strip_prefix("cst_") else {
            wrong.push(format!("{f}: does not start with cst_"));
            continue;
        };
        let Some((ty, rest)) = types.iter().find_map(|t| {
            body.strip_prefix(t.as_str())
                .and_then(|r| r.strip_prefix('_'))
                .map(|r| (t, r))
        }) else {
            wrong.push(format!(
                "{f}: no type (a handle of the header or a noun of the preamble's list) after cst_"
            ));
            continue;
        };
        let verb_ok = verbs.iter().any(|v| {
            rest == v.as_str()
                || rest
                    .strip_prefix(v.as_str())
                    .is_some_and(|r| r.starts_with('_'))
        });
        if !verb_ok {
            wrong.push(format!(
                "{f}: type `{ty}`, but `{rest}` does not start with a verb of the preamble's list"
            ));
        }
    }
    if functions.len() < 50 {
        wrong.push(format!(
            "only {} functions found in the header (the reader no longer matches it)",
            functions.len()
        ));
    }
    if wrong.is_empty() {
        Ok(functions.len())
    } else {
        Err(format!(
            "{} of the header's {} functions break its naming rule:\n  {}",
            wrong.len(),
            functions.len(),
            wrong.join("\n  ")
        ))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_export_of_the_committed_header_follows_the_naming_rule() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let header = std::fs::read_to_string(root.join("ffi/include/cstoken.h"))
            .unwrap_or_else(|e| panic!("ffi/include/cstoken.h: {e}"));
        if let Err(e) = check_names(&header) {
            panic!("{e}");
        }
    }

    #[test]
    fn the_check_refuses_what_breaks_the_rule() {
        let preamble = "/*\n * Nouns: library, token_text.\n * Verbs: get, merge, to_string.\n */\n\
                        typedef struct cst_token cst_token;\n";
        let with = |decls: &str| check_names(&format!("{preamble}{decls}"));
        // Too few functions is itself an error; pad with conforming ones.
        let pad: String = (0..60)
            .map(|i| format!("int cst_token_get_p{i}(void);\n"))
            .collect();
        if let Err(e) = with(&pad) {
            panic!("{e}");
        }
        for bad in [
            "int cst_merge(void);",                  // no type
            "int cst_token_segment_count(void);",    // a getter without get_
            "int cst_state_check_session_id(void);", // a namespace, not a handle or noun
            "int cst_token_text(void);",             // a type without a verb
        ] {
            let e = with(&format!("{pad}{bad}\n")).expect_err(bad);
            assert!(e.contains("1 of the header"), "{bad}: {e}");
        }
        assert!(
            with(&format!(
                "{pad}int cst_token_text_merge(void);\nint cst_library_get_version(void);\n"
            ))
            .is_ok()
        );
        // Comments and function-pointer typedefs are not functions.
        assert!(
            with(&format!(
                "{pad}/* cst_merge(a) */\ntypedef int (*cst_get_fn)(void);\n"
            ))
            .is_ok()
        );
    }
}
