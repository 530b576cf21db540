use super::*;
use serde_json::{Value, json};

#[test]
fn sorts_keys_and_drops_whitespace() {
    let v = json!({"b": 1, "a": [true, false], "c": {"z": "x", "y": -3}});
    assert_eq!(
        to_canonical_vec(&v).unwrap(),
        br#"{"a":[true,false],"b":1,"c":{"y":-3,"z":"x"}}"#
    );
}

#[test]
fn escapes_only_what_it_must() {
    let v = json!("a\"b\\c\n\u{1}/é\u{7f}");
    assert_eq!(
        to_canonical_vec(&v).unwrap(),
        "\"a\\\"b\\\\c\\n\\u0001/é\u{7f}\"".as_bytes()
    );
}

#[test]
fn numbers_follow_the_documented_rule() {
    let v = json!([
        0, 42, -7, 0.5, 1.0, -0.0, 1e-7, 1.5e300, 100.0, 1e16, 1e21, 0.000001
    ]);
    assert_eq!(
        String::from_utf8(to_canonical_vec(&v).unwrap()).unwrap(),
        "[0,42,-7,0.5,1,0,1e-7,1.5e+300,100,10000000000000000,1e+21,0.000001]"
    );
    // Integers beyond 2^53 are written only when the double's spelling is their own.
    assert!(to_canonical_vec(&json!(100_000_000_000_000_000u64)).is_ok());
    for bad in [9_007_199_254_740_993u64, u64::MAX] {
        assert!(matches!(
            to_canonical_vec(&json!(bad)),
            Err(EncodingError::InexactInteger(_))
        ));
    }
}

/// The legacy spelling is exactly what serde_json (the writer of format-1 registries)
/// prints, over powers of ten, integers, and pseudo-random doubles of every magnitude.
#[test]
fn the_legacy_spelling_is_what_serde_json_wrote() {
    let mut xs: Vec<f64> = Vec::new();
    for e in -325..=308 {
        for m in [1.0, 1.5, 9.999, 1.2345678901234567] {
            xs.push(format!("{m}e{e}").parse().unwrap());
        }
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..40_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let x = f64::from_bits(state);
        if x.is_finite() {
            xs.push(x);
        }
    }
    xs.extend([
        0.0,
        -0.0,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        0.1,
        0.2,
        0.3,
        10.0,
    ]);
    for x in xs.into_iter().filter(|x| x.is_finite()) {
        for x in [x, -x] {
            let serde = Value::from(x).to_string();
            assert_eq!(legacy_number(x).unwrap(), serde, "{x:e}");
            // Both spellings read back to the same double.
            let jcs = rfc8785_number(x).unwrap();
            assert_eq!(jcs.parse::<f64>().unwrap(), if x == 0.0 { 0.0 } else { x });
        }
    }
}

#[test]
fn non_finite_floats_are_refused_not_nulled() {
    #[derive(serde::Serialize)]
    struct S {
        x: f64,
    }
    for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(matches!(
            to_canonical_vec(&S { x }),
            Err(EncodingError::NullOrNonFinite)
        ));
    }
    assert!(from_canonical_slice::<Value>(br#"{"x":null}"#).is_err());
}

#[test]
fn refuses_non_canonical_inputs() {
    for text in [
        r#"{"b":1,"a":2}"#,
        r#"{"a": 1}"#,
        r#"{"a":1,"a":1}"#,
        "{\"a\":1}\n",
        r#"{"a":"\/"}"#,
        r#"{"a":1.50}"#,
        r#"{"a":10.0}"#,
        r#"{"a":-0.0}"#,
        r#"{"a":-0}"#,
        r#"{"a":1e+16}"#,
        r#"{"a":1e-6}"#,
        r#"{"a":9007199254740993}"#,
        r#"{"a":"\u00e9"}"#,
    ] {
        let r = from_canonical_slice::<Value>(text.as_bytes());
        assert!(
            matches!(r, Err(EncodingError::NotCanonical)),
            "{text}: {r:?}"
        );
    }
    assert!(from_canonical_slice::<Value>(br#"{"a":[1,"x"]}"#).is_ok());
}

#[test]
fn base64_is_strict() {
    assert_eq!(b64_decode(&b64_encode(b"reg")).unwrap(), b"reg");
    assert!(b64_decode("cmVn\n").is_err());
    assert!(b64_decode("cmVnZQ").is_err(), "missing padding");
    assert!(b64_decode("cmVnZR==").is_err(), "non-zero trailing bits");
}

#[test]
fn formats_time() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
    assert_eq!(rfc3339(951_827_696), "2000-02-29T12:34:56Z");
    for secs in [0u64, 951_827_696, 1_767_225_600, 4_102_444_799] {
        assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs));
    }
    assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
    assert_eq!(parse_rfc3339("2026-01-01 00:00:00Z"), None);
    for bad in [
        "2026-02-30T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "+202-01-01T00:00:00Z",
        "2026-+1-01T00:00:00Z",
        "10000-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:60Z",
    ] {
        assert_eq!(parse_rfc3339(bad), None, "{bad}");
    }
    assert!(parse_rfc3339("2028-02-29T00:00:00Z").is_some());
    assert!(parse_rfc3339("2000-02-29T00:00:00Z").is_some());
    assert_eq!(
        parse_rfc3339("9999-12-31T23:59:59Z"),
        Some(MAX_TIME_SECS),
        "the last second the grammar writes"
    );
    assert_eq!(rfc3339(MAX_TIME_SECS), "9999-12-31T23:59:59Z");
}

#[test]
fn strict_json_refuses_duplicate_keys_at_any_depth() {
    for text in [
        r#"{"a":1,"a":2}"#,
        r#"{"x":{"b":1,"b":1}}"#,
        r#"{"m":[{"k":1,"k":2}]}"#,
    ] {
        let e = parse_json_strict(text.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("duplicate key"), "{text}: {e}");
    }
    let v = parse_json_strict(br#" {"a": [1, 2.5, "x", true, {"b": {}}]} "#).unwrap();
    assert_eq!(v, serde_json::json!({"a": [1, 2.5, "x", true, {"b": {}}]}));
    assert!(parse_json_strict(br#"{"a":1} x"#).is_err());
}

#[test]
fn echo_is_short_and_escaped() {
    let long = "é".repeat(1000);
    let e = echo(&long);
    assert!(e.len() < ECHO_LIMIT + 32, "{e}");
    assert!(e.ends_with("(2000 bytes)"), "{e}");
    assert_eq!(echo("a\u{1b}[2Jb\u{202e}"), "a\\u{1b}[2Jb\\u{202e}");
    assert_eq!(forbidden_char("ok\u{202e}x").as_deref(), Some("U+202E"));
    assert_eq!(forbidden_char("a\u{85}").as_deref(), Some("U+0085"));
    assert_eq!(forbidden_char("plain é"), None);
}

#[test]
fn a_clock_reads_the_time_it_was_given() {
    assert_eq!(Clock::fixed(0).now().unwrap(), "1970-01-01T00:00:00Z");
    assert_eq!(
        Clock::from_epoch_text(" 1767225600 ").now().unwrap(),
        "2026-01-01T00:00:00Z"
    );
    assert!(matches!(
        Clock::fixed(MAX_TIME_SECS + 1).now(),
        Err(EncodingError::ClockOutOfRange(_))
    ));
    assert!(Clock::system().now().is_ok());
}

#[test]
fn a_bad_epoch_fails_when_read_not_when_made() {
    for text in ["", "-1", "1.5", "yesterday", "253402300800"] {
        let clock = Clock::from_epoch_text(text);
        match clock.now() {
            Err(e @ EncodingError::SourceDateEpoch(_)) => {
                assert!(
                    e.to_string().starts_with("SOURCE_DATE_EPOCH must be"),
                    "{e}"
                );
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
}
