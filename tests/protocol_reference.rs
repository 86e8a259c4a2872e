//! The protocol reference (`src/tablestore/PROTOCOL.md`) against its
//! evidence: every `fixture:` hex block equals the SDK-produced file it
//! names, byte for byte, and decodes; the signing examples (computed with
//! the official Python SDK's signers) equal what our signer computes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tablestore_sink::tablestore::{plainbuffer, sign};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The contents of every ```text block of the reference.
fn text_blocks() -> Vec<Vec<String>> {
    let doc = std::fs::read_to_string(repo().join("src/tablestore/PROTOCOL.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```") => {
                assert_eq!(l, "```text", "every code block is text, not a doctest");
                current = Some(Vec::new());
            }
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(b), _) => b.push(line.to_string()),
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "unterminated code block");
    blocks
}

#[test]
fn every_fixture_block_is_the_sdks_bytes() {
    let mut checked = 0;
    for block in text_blocks() {
        let Some(name) = block[0].strip_prefix("fixture: ") else {
            continue;
        };
        let hex: Vec<u8> = block[1..]
            .iter()
            .flat_map(|l| l.split_whitespace())
            .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("{name}: bad hex {b}")))
            .collect();
        let file = std::fs::read(repo().join("tests/fixtures").join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            hex, file,
            "{name}: the reference's bytes differ from the fixture"
        );
        plainbuffer::decode_single_row(&hex).unwrap_or_else(|e| panic!("{name}: {e}"));
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} fixture blocks");
}

fn example(title: &str) -> BTreeMap<String, String> {
    let block = text_blocks()
        .into_iter()
        .find(|b| b[0] == title)
        .unwrap_or_else(|| panic!("no {title:?} block"));
    block[1..]
        .iter()
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn the_signing_examples_are_what_our_signer_computes() {
    let ex = example("signing example");
    let headers: Vec<(&str, &str)> = ex
        .iter()
        .filter(|(k, _)| k.starts_with("x-ots-"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(headers.len(), 5);
    assert_eq!(ex["x-ots-contentmd5"], sign::content_md5(b""));
    let (action, secret) = (ex["action"].as_str(), ex["secret"].as_str());
    assert_eq!(
        sign::sign_request_v2(secret, action, headers.iter().copied()),
        ex["v2 signature"]
    );
    let key = sign::v4_signing_key(secret, &ex["v4 signdate"], &ex["v4 region"]);
    assert_eq!(
        String::from_utf8(key.clone()).unwrap(),
        ex["v4 signing key"]
    );
    let mut v4_headers = headers.clone();
    v4_headers.push((sign::HEADER_SIGN_DATE, &ex["v4 signdate"]));
    v4_headers.push((sign::HEADER_SIGN_REGION, &ex["v4 region"]));
    assert_eq!(
        sign::sign_request_v4(&key, action, v4_headers.iter().copied()),
        ex["v4 signature"]
    );

    let resp = example("response signing example");
    let response_headers = [
        ("x-ots-contentmd5", ex["x-ots-contentmd5"].as_str()),
        ("x-ots-contenttype", "protocol buffer"),
        ("x-ots-date", "2026-01-02T03:04:05.123456Z"),
        ("x-ots-requestid", "00000000-0000-0000-0000-000000000001"),
    ];
    assert_eq!(
        sign::sign_response("local-ak", secret.as_bytes(), action, response_headers),
        format!("OTS local-ak:{}", resp["v2 response signature"])
    );
}
