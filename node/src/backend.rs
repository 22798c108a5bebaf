//! `--backend`: opens the backend a command asked for, says on stderr which one it chose and why,
//! and remembers `auto`'s measurement on a real GPU in a small file beside the pipeline cache
//! (`backend-auto.json` in `ranger::gpu::cache_dir()`), so the measurement runs once per adapter,
//! driver and ranger version instead of once per command.
//!
//! The file is a cache, never an input to trust: one that does not parse, is too large or has a
//! shape it does not expect is ignored (and rewritten after the next measurement); one that
//! cannot be written costs a warning, not the command.

use anyhow::Result;
use ranger::crypto::{Backend, BackendKind};
use ranger::gpu::Measured;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The cache file's name inside the cache directory.
const FILE: &str = "backend-auto.json";
/// Bytes of the file we read: a few entries take a few hundred bytes each.
const MAX_BYTES: u64 = 64 * 1024;
/// Adapters remembered at once: a machine has a few; past this the file starts over.
const MAX_ENTRIES: usize = 32;

/// The faster side of one adapter, as the file spells it (`"gpu"` or `"cpu"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Faster {
    Gpu,
    Cpu,
}

/// One remembered measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    faster: Faster,
    cpu_recoveries_per_s: u64,
    gpu_recoveries_per_s: u64,
}

/// The backend a command runs on, and its name for JSON summaries.
#[derive(Debug)]
pub struct Opened {
    pub backend: Arc<dyn Backend>,
    pub name: String,
}

/// Opens `kind`, printing `backend: NAME (why)` on stderr.
pub fn open(kind: BackendKind) -> Result<Opened> {
    let path = ranger::gpu::cache_dir().map(|d| d.join(FILE));
    let memory = path.as_deref().map(read).unwrap_or_default();
    let chosen = ranger::gpu::choose_backend(kind, &|key| {
        memory.get(key).map(|e| e.faster == Faster::Gpu)
    })?;
    if let (Some(m), Some(p)) = (&chosen.measured, &path) {
        remember(p, memory, m);
    }
    let name = chosen.backend.name().to_string();
    eprintln!("backend: {name} ({})", chosen.why);
    Ok(Opened {
        backend: chosen.backend,
        name,
    })
}

/// The remembered measurements; empty when the file is missing, too large or not ours.
fn read(path: &Path) -> BTreeMap<String, Entry> {
    let Ok(Some(text)) =
        std::fs::File::open(path).and_then(|f| ranger::codec::read_bounded(f, MAX_BYTES))
    else {
        return BTreeMap::new();
    };
    serde_json::from_slice(&text).unwrap_or_else(|e| {
        tracing::debug!(path = %path.display(), error = %e, "ignoring a corrupt backend cache");
        BTreeMap::new()
    })
}

/// Adds `m` to the memory and writes the file whole (through a temporary file and a rename, so
/// a reader never sees half of it).
fn remember(path: &Path, mut memory: BTreeMap<String, Entry>, m: &Measured) {
    if memory.len() >= MAX_ENTRIES {
        memory.clear();
    }
    memory.insert(
        m.adapter.clone(),
        Entry {
            faster: if m.gpu_faster {
                Faster::Gpu
            } else {
                Faster::Cpu
            },
            cpu_recoveries_per_s: m.cpu_recoveries_per_s,
            gpu_recoveries_per_s: m.gpu_recoveries_per_s,
        },
    );
    if let Err(e) = write(path, &memory) {
        tracing::warn!(path = %path.display(), error = %e, "cannot remember the backend measurement");
    }
}

fn write(path: &Path, memory: &BTreeMap<String, Entry>) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = PathBuf::from(format!("{}.{}.tmp", path.display(), std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec_pretty(memory)?)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(adapter: &str, gpu_faster: bool) -> Measured {
        Measured {
            adapter: adapter.into(),
            gpu_faster,
            cpu_recoveries_per_s: 40_000,
            gpu_recoveries_per_s: if gpu_faster { 900_000 } else { 10_000 },
        }
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ranger-backend-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d.join(FILE)
    }

    #[test]
    fn a_measurement_is_remembered_per_adapter() {
        let p = tmp("remember");
        assert!(read(&p).is_empty(), "no file yet");
        remember(&p, read(&p), &measured("card A, ranger 0.1.0", true));
        remember(&p, read(&p), &measured("card B, ranger 0.1.0", false));
        let m = read(&p);
        assert_eq!(m.len(), 2);
        assert_eq!(m["card A, ranger 0.1.0"].faster, Faster::Gpu);
        assert_eq!(m["card B, ranger 0.1.0"].faster, Faster::Cpu);
        // The file spells the faster side as a word a person can read.
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("\"faster\": \"gpu\""), "{text}");
    }

    #[test]
    fn a_corrupt_cache_is_ignored_and_rewritten() {
        for junk in [
            &b"{\"card A\": {\"faster\": 7}"[..],
            b"{\"card A\": {\"faster\": \"tpu\", \"cpu_recoveries_per_s\": 1, \"gpu_recoveries_per_s\": 2}}",
            b"\x00\x01binary",
            b"[1, 2, 3]",
            b"{\"card A\": {\"faster\": \"gpu\", \"cpu_recoveries_per_s\": 1, \"gpu_recoveries_per_s\": 2, \"extra\": 1}}",
        ] {
            let p = tmp("corrupt");
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, junk).unwrap();
            assert!(read(&p).is_empty(), "{junk:?} is not a cache");
            remember(&p, read(&p), &measured("card A", true));
            assert_eq!(read(&p)["card A"].faster, Faster::Gpu);
        }
        // Too large to be ours: ignored without being parsed.
        let p = tmp("large");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, vec![b' '; MAX_BYTES as usize + 1]).unwrap();
        assert!(read(&p).is_empty());
    }

    #[test]
    fn the_memory_starts_over_past_its_bound() {
        let p = tmp("bound");
        for i in 0..=MAX_ENTRIES {
            remember(&p, read(&p), &measured(&format!("card {i}"), true));
        }
        let m = read(&p);
        assert!(m.len() <= MAX_ENTRIES, "{}", m.len());
        assert!(m.contains_key(&format!("card {MAX_ENTRIES}")));
    }
}
