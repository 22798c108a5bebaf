//! Human-readable output: aligned key/value tables for blocks and transactions, and the check of
//! a JSON block's claims (hash, senders) against what ranger computed.

use ranger::codec::json::JsonClaims;
use ranger::pipeline::BlockReport;
use serde_json::Value;

/// Writes one line to stdout (see the `out!` macro).
pub fn emit(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_fmt(args).and_then(|()| o.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

fn opt<T: std::fmt::LowerHex>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_string(), |x| format!("{x:#x}"))
}

fn num<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_string(), |x| x.to_string())
}

/// Prints a block report as a table; `unchecked` says why its transactions were not checked.
pub fn print_block(r: &BlockReport, claims: &[String], unchecked: Option<&str>) {
    out!("{:<14} {}", "number", num(&r.number));
    out!("{:<14} {}", "hash", opt(&r.hash));
    out!("{:<14} {}", "sig hash", opt(&r.sig_hash));
    out!("{:<14} {}", "round", num(&r.round));
    out!("{:<14} {}", "proposer", opt(&r.proposer));
    out!("{:<14} {}", "validators", r.validators.len());
    for v in &r.validators {
        out!("{:<14}   {v:#x}", "");
    }
    out!("{:<14} {}", "committers", r.committers.len());
    for c in &r.committers {
        out!("{:<14}   {c:#x}", "");
    }
    if let Some(q) = &r.quorum {
        out!(
            "{:<14} {} valid distinct of {} required (council {}): {}",
            "quorum",
            q.valid_distinct,
            q.required,
            q.council,
            if q.ok { "ok" } else { "FAILED" }
        );
    }
    if let Some(t) = &r.tx_root {
        out!(
            "{:<14} {} ({}): {}",
            "tx root",
            t.computed,
            t.imp,
            if t.ok { "ok" } else { "MISMATCH" }
        );
    }
    match unchecked {
        None => out!("{:<14} {}", "transactions", r.transactions.len()),
        Some(why) => out!("{:<14} not checked: {why}", "transactions"),
    }
    for t in &r.transactions {
        out!(
            "  #{:<4} {:<7} {} sender {} {}",
            t.index,
            t.tx_type,
            t.hash,
            opt(&t.sender),
            if t.ok {
                "ok".to_string()
            } else {
                format!("FAIL {}", t.error.clone().unwrap_or_default())
            }
        );
        for n in &t.notes {
            out!("         note: {n}");
        }
    }
    for c in claims {
        out!("{:<14} {c}", "claim");
    }
    out!("{:<14} {:?}", "verdict", r.verdict);
    if let Some(why) = &r.undecided {
        out!("  undecided: {why}");
    }
    for f in &r.faults {
        let tx = f.tx_index.map(|i| format!(" (tx {i})")).unwrap_or_default();
        let eg = match (&f.expected, &f.got) {
            (Some(e), Some(g)) => format!(" [expected {e}, got {g}]"),
            _ => String::new(),
        };
        out!("  fault {}{tx}: {}{eg}", f.kind, f.detail);
    }
}

/// Prints a flat JSON object as an aligned table.
pub fn print_kv(v: &Value) {
    let Some(o) = v.as_object() else {
        out!("{v}");
        return;
    };
    for (k, v) in o {
        match v {
            Value::Object(inner) => {
                out!("{k}");
                for (ik, iv) in inner {
                    out!("  {ik:<16} {}", show(iv));
                }
            }
            _ => out!("{k:<20} {}", show(v)),
        }
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        Value::Array(a) if a.is_empty() => "-".into(),
        Value::Array(a) => a.iter().map(show).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The claims of a JSON block that disagree with what ranger computed.
pub fn claim_mismatches(r: &BlockReport, c: &JsonClaims) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(claimed), Some(got)) = (c.hash, r.hash)
        && claimed != got
    {
        out.push(format!(
            "JSON hash {claimed} is not the computed block hash {got}"
        ));
    }
    for t in &r.transactions {
        if let Some(Some(h)) = c.tx_hashes.get(t.index)
            && *h != t.hash
        {
            out.push(format!(
                "tx {}: JSON hash {h} is not the computed {}",
                t.index, t.hash
            ));
        }
        if let Some(Some(h)) = c.sender_tx_hashes.get(t.index)
            && *h != t.sender_tx_hash
        {
            out.push(format!(
                "tx {}: JSON senderTxHash {h} is not the computed {}",
                t.index, t.sender_tx_hash
            ));
        }
        if let (Some(Some(f)), Some(s)) = (c.senders.get(t.index), t.sender)
            && *f != s
            && !t.notes.iter().any(|n| n.contains("decoupled"))
        {
            out.push(format!(
                "tx {}: JSON from {f:#x} is not the recovered sender {s:#x}",
                t.index
            ));
        }
    }
    out
}

/// An error and its causes on one line, each cause said once: a library error whose message
/// already quotes its source ("cannot read X: No such file…") is not followed by that source
/// again, and a message that starts with its own "error:" does not get a second one.
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let text = text.trim_start_matches("error: ").trim();
        if text.is_empty() || line.contains(text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::error_chain;
    use anyhow::Context;

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let text = io.to_string();
        let e = Err::<(), _>(io)
            .context(format!("cannot read x.json: {text}"))
            .context("error: could not start")
            .unwrap_err();
        let line = error_chain(&e);
        assert_eq!(line.matches(&text).count(), 1, "{line}");
        assert!(
            line.starts_with("could not start: cannot read x.json"),
            "{line}"
        );
    }
}
