//! Fuzzes fault-report decoding: whatever decodes re-encodes to the same bytes, and its witness
//! detaches and attaches again under the same signing hash and fault id. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ranger::report::FaultReport;

fuzz_target!(|data: &[u8]| {
    let Ok(report) = FaultReport::decode(data) else {
        return;
    };
    assert_eq!(report.encode(), data);
    let _ = report.signer();
    let mut thin = report.clone();
    if let Some(witness) = thin.detach_witness() {
        assert_eq!(thin.signing_hash(), report.signing_hash());
        assert_eq!(thin.fault_id(), report.fault_id());
        assert_eq!(FaultReport::decode(&thin.encode()).as_ref(), Ok(&thin));
        thin.attach_witness(witness).expect("its own witness attaches");
        assert_eq!(thin, report);
    }
});
