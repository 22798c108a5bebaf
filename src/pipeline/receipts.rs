//! Receipts a source gives for a block ranger cannot replay (a live chain's): they let the node
//! check the header's receiptsRoot, gasUsed and logsBloom without the state.
//!
//! A source's receipts are not signed by the council, so what they prove depends on the root:
//! receipts whose DeriveSha root is not the header's `receiptsRoot` are the source's word against
//! the header's, and make the block `undecided` (ranger cannot tell a lying source from a lying
//! council). Receipts whose root *is* the header's are the council's own committed data, so a
//! gasUsed that is not their sum, or a logsBloom that is not the OR of theirs, is a proven fault
//! (`wrong-gas-used`, `wrong-logs-bloom`). A source without the method leaves the receipts
//! unchecked, which the block's report says in a note.

use super::checked::Undecided;
use super::report::{BlockReport, ReceiptsReport};
use crate::codec::rlp::wrap_list;
use crate::consensus::{Fault, FaultKind};
use crate::crypto::Backend;
use crate::primitives::Header;
use crate::trie::{DeriveShaImpl, derive_sha};
use alloy_primitives::{Address, B256, Bloom, Bytes};
use alloy_rlp::Encodable;
use serde_json::Value;

/// One log as a receipt commits to it: `[address, topics, data]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLog {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Bytes,
}

/// One receipt as the receipts root commits to it: `[status, gasUsed, bloom, logs]`, with the
/// gas of this transaction alone (Kaia's receipts are not cumulative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptData {
    /// Kaia's status code: 1 success, else the error code (the RPC prints `status: 0` and the
    /// code as `txError`).
    pub status: u64,
    pub gas_used: u64,
    pub bloom: Bloom,
    pub logs: Vec<ReceiptLog>,
}

/// What a source said about one block's receipts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceReceipts {
    /// The receipts, in transaction order.
    Given(Vec<ReceiptData>),
    /// The source could not give them (it lacks the method, or refused): why.
    Unavailable(String),
    /// The source's answer was not a list of receipts (a field that does not parse): why.
    Malformed(String),
}

impl ReceiptData {
    /// The receipt `r` as `kaia_getBlockReceipts` printed it. Fails on a log that is not
    /// `{address, topics, data}` with well-formed values.
    pub fn from_rpc(r: &crate::codec::rpc::Receipt) -> Result<Self, String> {
        let index = r.transaction_index.to::<u64>();
        // The status the root commits to: `txError` holds it for a failed transaction.
        let status = match r.tx.get("txError") {
            Some(v) if r.status.to::<u64>() == 0 => crate::codec::rpc::quantity_of(v)
                .ok_or_else(|| format!("receipt {index}: txError {v} is not a quantity"))?,
            _ => r.status.to::<u64>(),
        };
        let logs = r
            .logs
            .iter()
            .enumerate()
            .map(|(i, l)| log_of(l).map_err(|e| format!("receipt {index}, log {i}: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            status,
            gas_used: r.gas_used.to::<u64>(),
            bloom: r.logs_bloom,
            logs,
        })
    }

    /// The consensus RLP: `[status, gasUsed, bloom, [[address, [topics], data], …]]`.
    pub fn encode(&self) -> Vec<u8> {
        let mut logs = Vec::new();
        for l in &self.logs {
            let mut p = Vec::new();
            l.address.encode(&mut p);
            l.topics.encode(&mut p);
            l.data.encode(&mut p);
            logs.extend_from_slice(&wrap_list(&p));
        }
        let mut p = Vec::with_capacity(270 + logs.len());
        self.status.encode(&mut p);
        self.gas_used.encode(&mut p);
        self.bloom.encode(&mut p);
        p.extend_from_slice(&wrap_list(&logs));
        wrap_list(&p)
    }
}

fn log_of(v: &Value) -> Result<ReceiptLog, String> {
    fn get<T: serde::de::DeserializeOwned>(v: &Value, k: &str) -> Result<T, String> {
        let x = v.get(k).ok_or_else(|| format!("no {k}"))?;
        T::deserialize(x).map_err(|e| format!("{k}: {e}"))
    }
    Ok(ReceiptLog {
        address: get(v, "address")?,
        topics: get(v, "topics")?,
        data: get(v, "data")?,
    })
}

/// How to compute a receipts root: the chain's DeriveSha impl, and whether the others may be
/// tried (live chains change the impl by governance, which ranger does not track).
#[derive(Debug, Clone, Copy)]
pub struct RootRule {
    pub derive_sha: DeriveShaImpl,
    pub try_every: bool,
}

/// Checks `given` against the header of a block with `tx_count` transactions and records the
/// outcome in `report`: a note when the receipts were not checked, `undecided` when they do not
/// match the header (the source's fault, not the council's), faults when matching receipts show
/// the header's gasUsed or logsBloom wrong. A backend failure while hashing makes the block
/// undecided.
pub fn check(
    header: &Header,
    tx_count: usize,
    given: &SourceReceipts,
    rule: RootRule,
    backend: &super::CheckedBackend<'_>,
    report: &mut BlockReport,
) {
    let receipts = match given {
        SourceReceipts::Given(r) => r,
        SourceReceipts::Unavailable(why) => {
            report.notes.push(format!(
                "receipts not checked: the source gave none ({why})"
            ));
            return;
        }
        SourceReceipts::Malformed(why) => {
            source_mismatch(report, format!("the source's receipts do not parse: {why}"));
            return;
        }
    };
    if receipts.len() != tx_count {
        source_mismatch(
            report,
            format!(
                "the source gave {} receipts for {tx_count} transactions",
                receipts.len()
            ),
        );
        return;
    }
    let encoded: Vec<Vec<u8>> = receipts.iter().map(ReceiptData::encode).collect();
    let items: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
    let be: &dyn Backend = backend;
    let mut tried = Vec::new();
    let mut found = None;
    for imp in std::iter::once(rule.derive_sha).chain(
        DeriveShaImpl::ALL
            .into_iter()
            .filter(|i| rule.try_every && *i != rule.derive_sha),
    ) {
        let root = derive_sha(imp, &items, be);
        tried.push((imp, root));
        if root == header.receipts_root {
            found = Some(imp);
            break;
        }
    }
    if let Some(e) = backend.take_failure() {
        report.undecided.get_or_insert_with(|| e.to_string());
        return;
    }
    let Some(imp) = found else {
        let computed = tried
            .iter()
            .map(|(i, r)| format!("{r} under {}", i.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        source_mismatch(
            report,
            format!(
                "the source's receipts do not match the header's receiptsRoot {} (they hash to {computed})",
                header.receipts_root
            ),
        );
        return;
    };
    // From here the receipts are the ones the council committed to.
    let gas = receipts
        .iter()
        .try_fold(0u64, |sum, r| sum.checked_add(r.gas_used));
    let mut bloom = Bloom::ZERO;
    for r in receipts {
        bloom.accrue_bloom(&r.bloom);
    }
    report.receipts = Some(ReceiptsReport {
        root: header.receipts_root,
        imp: imp.as_str().to_owned(),
        gas_used: gas,
        ok: gas == Some(header.gas_used) && bloom == header.bloom,
    });
    if gas != Some(header.gas_used) {
        let sum = gas.map_or_else(|| "more than 2^64 - 1".to_owned(), |g| g.to_string());
        report.faults.push(
            Fault::new(
                FaultKind::WrongGasUsed,
                "gasUsed differs from the sum of the gas of the receipts its receiptsRoot commits to",
            )
            .expected_got(sum, header.gas_used),
        );
    }
    if bloom != header.bloom {
        report.faults.push(
            Fault::new(
                FaultKind::WrongLogsBloom,
                "logsBloom differs from the union of the blooms of the receipts its receiptsRoot commits to",
            )
            .expected_got(bloom, header.bloom),
        );
    }
}

/// The source's receipts do not belong to this header: the node cannot tell who lies.
fn source_mismatch(report: &mut BlockReport, why: String) {
    report
        .undecided
        .get_or_insert_with(|| Undecided::Source(why).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CpuBackend;
    use crate::pipeline::{CheckedBackend, Verdict};

    fn receipt(gas: u64) -> ReceiptData {
        ReceiptData {
            status: 1,
            gas_used: gas,
            bloom: Bloom::ZERO,
            logs: Vec::new(),
        }
    }

    /// A header committing to `receipts` under `imp`, with their gas and bloom.
    fn header_for(receipts: &[ReceiptData], imp: DeriveShaImpl) -> Header {
        let enc: Vec<Vec<u8>> = receipts.iter().map(ReceiptData::encode).collect();
        let items: Vec<&[u8]> = enc.iter().map(Vec::as_slice).collect();
        Header {
            receipts_root: derive_sha(imp, &items, &CpuBackend),
            gas_used: receipts.iter().map(|r| r.gas_used).sum(),
            ..Header::default()
        }
    }

    fn judge(h: &Header, n: usize, given: SourceReceipts, try_every: bool) -> BlockReport {
        let mut report = BlockReport::new(0, Some(1));
        let rule = RootRule {
            derive_sha: DeriveShaImpl::Orig,
            try_every,
        };
        check(
            h,
            n,
            &given,
            rule,
            &CheckedBackend::new(&CpuBackend),
            &mut report,
        );
        report.settle();
        report
    }

    #[test]
    fn matching_receipts_make_a_checked_valid_block() {
        let rs = vec![receipt(21_000), receipt(30_000)];
        let h = header_for(&rs, DeriveShaImpl::Orig);
        let r = judge(&h, 2, SourceReceipts::Given(rs), false);
        assert_eq!(r.verdict, Verdict::Valid, "{r:?}");
        let rr = r.receipts.unwrap();
        assert!(rr.ok);
        assert_eq!(rr.gas_used, Some(51_000));
        assert_eq!(rr.imp, "orig");
    }

    #[test]
    fn another_impl_is_found_only_when_every_impl_may_be_tried() {
        let rs = vec![receipt(21_000), receipt(30_000)];
        let h = header_for(&rs, DeriveShaImpl::Concat);
        let r = judge(&h, 2, SourceReceipts::Given(rs.clone()), true);
        assert_eq!(r.verdict, Verdict::Valid, "{r:?}");
        assert_eq!(r.receipts.unwrap().imp, "concat");
        let r = judge(&h, 2, SourceReceipts::Given(rs), false);
        assert_eq!(r.verdict, Verdict::Undecided);
    }

    #[test]
    fn receipts_with_another_root_are_the_sources_word_not_a_fault() {
        let rs = vec![receipt(21_000), receipt(30_000)];
        let mut h = header_for(&rs, DeriveShaImpl::Orig);
        // The source lies about one receipt's gas: its root is not the header's.
        let lie = vec![receipt(21_000), receipt(31_000)];
        h.gas_used = 52_000;
        let r = judge(&h, 2, SourceReceipts::Given(lie), true);
        assert_eq!(r.verdict, Verdict::Undecided, "{r:?}");
        assert!(r.faults.is_empty());
        let why = r.undecided.unwrap();
        assert!(
            why.contains("do not match the header's receiptsRoot"),
            "{why}"
        );
        assert!(r.receipts.is_none());
    }

    #[test]
    fn committed_receipts_prove_a_wrong_gas_used() {
        let rs = vec![receipt(21_000), receipt(30_000)];
        let mut h = header_for(&rs, DeriveShaImpl::Orig);
        h.gas_used += 1;
        let r = judge(&h, 2, SourceReceipts::Given(rs), false);
        assert_eq!(r.verdict, Verdict::Invalid, "{r:?}");
        let f = r.first_fault().unwrap();
        assert_eq!(f.kind, FaultKind::WrongGasUsed);
        assert_eq!(f.expected.as_deref(), Some("51000"));
        assert_eq!(f.got.as_deref(), Some("51001"));
    }

    #[test]
    fn committed_receipts_prove_a_wrong_logs_bloom() {
        let mut one = receipt(21_000);
        one.bloom = Bloom::repeat_byte(0x10);
        let rs = vec![one];
        let h = header_for(&rs, DeriveShaImpl::Orig);
        let r = judge(&h, 1, SourceReceipts::Given(rs), false);
        assert_eq!(r.verdict, Verdict::Invalid, "{r:?}");
        assert_eq!(r.first_fault().unwrap().kind, FaultKind::WrongLogsBloom);
    }

    #[test]
    fn a_count_mismatch_or_no_receipts_is_never_a_fault() {
        let rs = vec![receipt(21_000)];
        let h = header_for(&rs, DeriveShaImpl::Orig);
        let r = judge(&h, 2, SourceReceipts::Given(rs), true);
        assert_eq!(r.verdict, Verdict::Undecided);
        assert!(
            r.undecided
                .unwrap()
                .contains("1 receipts for 2 transactions")
        );
        let r = judge(
            &h,
            1,
            SourceReceipts::Unavailable("method not found".into()),
            true,
        );
        assert_eq!(r.verdict, Verdict::Valid);
        assert!(r.receipts.is_none());
        assert_eq!(
            r.notes,
            vec!["receipts not checked: the source gave none (method not found)".to_owned()]
        );
    }

    #[test]
    fn an_empty_block_commits_to_the_empty_root() {
        let h = header_for(&[], DeriveShaImpl::Orig);
        assert_eq!(h.receipts_root, crate::trie::EMPTY_ROOT_HASH);
        let r = judge(&h, 0, SourceReceipts::Given(Vec::new()), false);
        assert_eq!(r.verdict, Verdict::Valid);
        assert!(r.receipts.unwrap().ok);
    }

    #[test]
    fn a_failed_transaction_commits_to_its_error_code() {
        let v = serde_json::json!({
            "blockHash": B256::repeat_byte(0xaa), "blockNumber": "0x1",
            "transactionHash": B256::repeat_byte(0xbb), "transactionIndex": "0x0",
            "status": "0x0", "txError": "0x9", "gasUsed": "0x5208",
            "logs": [{"address": Address::repeat_byte(0xcc),
                      "topics": [B256::with_last_byte(0xdd)], "data": "0x01"}],
            "logsBloom": Bloom::ZERO, "contractAddress": null});
        let r: crate::codec::rpc::Receipt = serde_json::from_value(v).unwrap();
        let d = ReceiptData::from_rpc(&r).unwrap();
        assert_eq!(d.status, 9);
        assert_eq!(d.logs[0].topics, vec![B256::with_last_byte(0xdd)]);
        assert_eq!(d.logs[0].data, Bytes::from(vec![1u8]));
        let mut bad = r.clone();
        bad.logs[0]["topics"] = serde_json::json!("0x12");
        assert!(ReceiptData::from_rpc(&bad).unwrap_err().contains("log 0"));
    }

    fn dataset(name: &str) -> Value {
        let path = format!("{}/datasets/json/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    /// The three header fields the check reads, from a block object.
    fn header_of(b: &Value) -> Header {
        Header {
            receipts_root: serde_json::from_value(b["receiptsRoot"].clone()).unwrap(),
            bloom: serde_json::from_value(b["logsBloom"].clone()).unwrap(),
            gas_used: crate::codec::rpc::parse_quantity(b["gasUsed"].as_str().unwrap()).unwrap(),
            ..Header::default()
        }
    }

    fn receipts_of(v: &Value) -> Vec<ReceiptData> {
        let rs: Vec<crate::codec::rpc::Receipt> = serde_json::from_value(v.clone()).unwrap();
        rs.iter()
            .map(|r| ReceiptData::from_rpc(r).unwrap())
            .collect()
    }

    #[test]
    fn recorded_receipts_of_a_real_block_hash_to_its_root() {
        // Twelve transactions of nine types, one contract creation with three logs.
        let block = dataset("localnet-1078-block.json");
        let rs = receipts_of(&dataset("localnet-1078-receipts.json"));
        assert_eq!(rs.len(), 12);
        assert_eq!(rs.iter().map(|r| r.logs.len()).sum::<usize>(), 3);
        let h = header_of(&block);
        let r = judge(&h, 12, SourceReceipts::Given(rs.clone()), true);
        assert_eq!(r.verdict, Verdict::Valid, "{r:?}");
        let rr = r.receipts.unwrap();
        assert!(rr.ok);
        assert_eq!(rr.gas_used, Some(h.gas_used));
        // One log changed: the root no longer matches, and the block is undecided.
        let mut lie = rs;
        lie[8].logs[0].data = Bytes::from(vec![0u8]);
        let r = judge(&h, 12, SourceReceipts::Given(lie), true);
        assert_eq!(r.verdict, Verdict::Undecided, "{r:?}");
    }

    #[test]
    fn the_kairos_receipt_rebuilt_from_its_block_hashes_to_its_root() {
        let block = dataset("kairos-83863326-consensus.json");
        let rs = receipts_of(&dataset("kairos-83863326-receipts.json")["result"]);
        let r = judge(
            &header_of(&block["result"]),
            1,
            SourceReceipts::Given(rs),
            true,
        );
        assert_eq!(r.verdict, Verdict::Valid, "{r:?}");
        assert!(r.receipts.unwrap().ok);
    }
}
