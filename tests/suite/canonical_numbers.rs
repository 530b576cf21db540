//! The number table of FORMAT.md §2, checked against the code: every row's RFC 8785 spelling is
//! what reg writes and the only one it reads in format 2; the format-1 spelling is what reg wrote
//! before (serde_json's), read only in format-1 drift observations.

use reg::util::encoding::{
    NumberForm, legacy_number, parse_canonical_value, parse_value_in, rfc8785_number,
    to_canonical_vec,
};

/// `(bits, rfc 8785 spelling, format-1 spelling)`; `None` where the row says "refused".
fn rows() -> Vec<(u64, Option<String>, Option<String>)> {
    let spec =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FORMAT.md")).unwrap();
    let start = spec.find("<!-- NUMBERS-BEGIN").expect("the number table");
    let end = spec
        .find("<!-- NUMBERS-END -->")
        .expect("the number table's end");
    let cell = |c: &str| {
        let c = c.trim();
        c.starts_with('`').then(|| c.trim_matches('`').to_string())
    };
    spec[start..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 3, "{l}");
            let bits = u64::from_str_radix(cells[0].trim().trim_matches('`'), 16).unwrap();
            (bits, cell(cells[1]), cell(cells[2]))
        })
        .collect()
}

#[test]
fn the_number_table_of_format_md_is_what_the_code_writes_and_reads() {
    let rows = rows();
    assert!(rows.len() >= 30, "{} rows", rows.len());
    for (bits, jcs, legacy) in rows {
        let x = f64::from_bits(bits);
        assert_eq!(rfc8785_number(x), jcs, "{bits:016x} ({x:e}): RFC 8785");
        assert_eq!(legacy_number(x), legacy, "{bits:016x} ({x:e}): format 1");
        let (Some(jcs), Some(legacy)) = (jcs, legacy) else {
            continue;
        };
        // The writer spells the double so, inside a document, and reads it back as canonical.
        let doc = format!("{{\"value\":{jcs}}}");
        assert_eq!(
            to_canonical_vec(&serde_json::json!({ "value": x })).unwrap(),
            doc.as_bytes(),
            "{bits:016x}"
        );
        let read = parse_canonical_value(doc.as_bytes()).unwrap();
        assert_eq!(
            read["value"].as_f64().unwrap().to_bits(),
            (x + 0.0).to_bits()
        );
        // The format-1 spelling is read only as such, and refused as RFC 8785 where it differs.
        let old = format!("{{\"value\":{legacy}}}");
        assert!(
            parse_value_in(old.as_bytes(), NumberForm::Legacy).is_ok(),
            "{old}"
        );
        assert_eq!(
            parse_canonical_value(old.as_bytes()).is_ok(),
            legacy == jcs,
            "{old}"
        );
    }
}

/// The brief's samples, by value: the 1e21 boundary, the 1e-6 boundary, the extremes, minus
/// zero, and a double whose digits end in zeros.
#[test]
fn rfc_8785_boundaries_by_value() {
    for (x, text) in [
        (1e21, "1e+21"),
        (999_999_999_999_999_900_000.0, "999999999999999900000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (-0.0, "0"),
        (123_456_789_012_345_680_000.0, "123456789012345680000"),
        (1e16, "10000000000000000"),
        (10.0, "10"),
    ] {
        assert_eq!(rfc8785_number(x).as_deref(), Some(text), "{x:e}");
    }
}
