//! docs/session-state.md's option table is the state crate's: every option in table order with
//! its type, default and range, and the ASP.NET provider maps each attribute it lists to the
//! option of that row (the provider's own source is read).

use cosmos_session_state::OPTIONS;

fn read(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The cells of the docs' option table, without backticks.
fn doc_rows() -> Vec<Vec<String>> {
    let doc = read("docs/session-state.md");
    let start = doc
        .find("| option | type | default | range |")
        .expect("docs/session-state.md has the option table");
    doc[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn the_docs_table_is_the_option_table() {
    let rows = doc_rows();
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let expected: Vec<&str> = OPTIONS.iter().map(|o| o.name).collect();
    assert_eq!(names, expected, "docs/session-state.md lists other options");
    for (row, option) in rows.iter().zip(OPTIONS) {
        let default = match option.default_text() {
            d if d.is_empty() => "(none)".to_owned(),
            d => d,
        };
        assert_eq!(row[1], option.kind.as_str(), "{}: type", option.name);
        assert_eq!(row[2], default, "{}: default", option.name);
        assert_eq!(row[3], option.range, "{}: range", option.name);
    }
}

#[test]
fn the_aspnet_provider_maps_each_listed_attribute_to_its_option() {
    let provider =
        read("bindings/dotnet/src/CosmosSessionToken.AspNet/CosmosDbSessionStateProvider.cs");
    for row in doc_rows() {
        let (option, attribute) = (&row[0], &row[5]);
        let pair = format!("(\"{attribute}\", \"{option}\")");
        let timeout =
            option == "timeout" && provider.contains("options.Set(\"timeout\", timeoutSeconds)");
        assert!(
            provider.contains(&pair) || timeout,
            "the provider does not map {attribute} to {option}"
        );
    }
}

#[test]
fn the_cli_flags_are_the_options_names() {
    // Without whitespace: rustfmt may break a long (name, field) pair over lines.
    let cli: String = read("cli/src/state.rs").split_whitespace().collect();
    for row in doc_rows() {
        let (option, flag) = (&row[0], &row[6]);
        if flag != "—" {
            assert_eq!(flag, &format!("--{}", option.replace('_', "-")));
            assert!(
                cli.contains(&format!("(\"{option}\",&t.{option})"))
                    || cli.contains(&format!("(\"{option}\",&self.{option})"))
                    || cli.contains(&format!("(\"{option}\",&self.{option},)"))
                    || option == "allow_multi_write",
                "cst state does not pass --{option} to the option of that name"
            );
        }
    }
}
