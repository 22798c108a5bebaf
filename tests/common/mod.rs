//! Shared by the integration tests: the public Kaia vectors and hex helpers over their JSON.

#![allow(dead_code)]

use alloy_primitives::{Address, B256};
use serde_json::Value;

/// `datasets/vectors/kaia.json`.
pub fn vectors() -> Value {
    let text = include_str!("../../datasets/vectors/kaia.json");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("vectors: {e}"))
}

/// The bytes of a hex string value (no 0x).
pub fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
        .unwrap_or_else(|e| panic!("hex: {e}"))
}

/// A 32-byte hash value.
pub fn h256(v: &Value) -> B256 {
    B256::from_slice(&hx(v))
}

/// A 20-byte address value.
pub fn addr(v: &Value) -> Address {
    Address::from_slice(&hx(v))
}
