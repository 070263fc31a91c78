//! Repository tasks. `cargo run -p xtask -- header` regenerates `ffi/include/cstoken.h` with the
//! pinned cbindgen; `cargo run -p xtask -- header --check` fails when the committed header differs
//! from a fresh generation (kept out of `ffi`'s build so consumers never compile cbindgen).
//! `cargo run -p xtask -- versions` checks that every place that spells the version (the C
//! pkg-config template, the .NET assembly attributes and csproj, the workspace dependencies)
//! spells the workspace version (one version source), and that the header and the .NET wrapper
//! spell the C ABI version of `ffi/src/status.rs`. `cargo run -p xtask -- print version|abi`
//! prints the workspace version or the C ABI version, for the scripts and the Makefile (one
//! reader of each source instead of a `sed` expression per script).

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
                Ok(())
            } else {
                Err(format!(
                    "{} differs from a fresh generation: run `cargo run -p xtask -- header` and commit it",
                    header.display()
                ))
            }
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
            "usage: cargo run -p xtask -- header [--check] | versions | print version|abi"
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
            "bindings/dotnet/src/CosmosSessionToken/CosmosSessionToken.csproj",
            format!("<Version>{version}</Version>"),
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
