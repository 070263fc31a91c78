//! Repository tasks. `cargo run -p xtask -- header` regenerates `ffi/include/cstoken.h` with the
//! pinned cbindgen; `cargo run -p xtask -- header --check` fails when the committed header differs
//! from a fresh generation. Kept out of `ffi`'s build so consumers never compile cbindgen.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
    let ffi_dir = root.join("ffi");
    let header = ffi_dir.join("include/cstoken.h");
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["header"] => {
            let text = generate(&ffi_dir)?;
            std::fs::write(&header, text).map_err(|e| format!("{}: {e}", header.display()))?;
            println!("wrote {}", header.display());
            Ok(())
        }
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
        _ => Err("usage: cargo run -p xtask -- header [--check]".to_owned()),
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
