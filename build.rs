//! Build script: assembles every compute kernel in `shaders/` with the shared code it imports, and
//! validates the result with naga, so a broken shader fails `cargo build` rather than a user's run.
//!
//! WGSL has no includes: a kernel names its shared files on a `// import: a b c` line, and the
//! assembled source (shared files in that order, then the kernel) is written to
//! `$OUT_DIR/shaders/<kernel>.wgsl`, which `src/gpu/shaders.rs` embeds with `include_str!`. What
//! is validated here is byte for byte what the host compiles at run time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    if let Err(e) = run() {
        // A build script reports failure by exiting non-zero with a readable message.
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest =
        std::env::var("CARGO_MANIFEST_DIR").map_err(|e| format!("CARGO_MANIFEST_DIR: {e}"))?;
    let out = std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?;
    let dir = Path::new(&manifest).join("shaders");
    let out_dir = Path::new(&out).join("shaders");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("create {}: {e}", out_dir.display()))?;
    println!("cargo:rerun-if-changed=shaders");
    println!("cargo:rerun-if-changed=build.rs");

    let mut kernels: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wgsl"))
        .collect();
    kernels.sort();
    let shared_dir = dir.join("shared");
    if let Ok(entries) = std::fs::read_dir(&shared_dir) {
        for e in entries.flatten() {
            println!("cargo:rerun-if-changed={}", e.path().display());
        }
    }
    for kernel in &kernels {
        println!("cargo:rerun-if-changed={}", kernel.display());
        let source = assemble(kernel, &shared_dir)?;
        validate(kernel, &source)?;
        let name = kernel
            .file_name()
            .ok_or_else(|| format!("bad path {}", kernel.display()))?;
        let dest = out_dir.join(name);
        std::fs::write(&dest, &source).map_err(|e| format!("write {}: {e}", dest.display()))?;
    }
    Ok(())
}

/// The kernel's imports (in order) followed by the kernel itself.
fn assemble(kernel: &Path, shared_dir: &Path) -> Result<String, String> {
    let text =
        std::fs::read_to_string(kernel).map_err(|e| format!("read {}: {e}", kernel.display()))?;
    let imports: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("// import:"))
        .flat_map(str::split_whitespace)
        .collect();
    let mut source = String::new();
    for name in imports {
        let path = shared_dir.join(format!("{name}.wgsl"));
        let shared = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: imports `{name}`, but {} cannot be read: {e}",
                kernel.display(),
                path.display()
            )
        })?;
        let _ = writeln!(source, "// ---- shared/{name}.wgsl ----");
        source.push_str(&shared);
        source.push('\n');
    }
    let _ = writeln!(source, "// ---- {} ----", kernel.display());
    source.push_str(&text);
    Ok(source)
}

/// Parses and validates one assembled kernel with naga.
fn validate(kernel: &Path, source: &str) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(source).map_err(|e| {
        format!(
            "shader {} does not parse:\n{}",
            kernel.display(),
            e.emit_to_string(source)
        )
    })?;
    let mut validator = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::default(),
    );
    validator.validate(&module).map_err(|e| {
        format!(
            "shader {} is invalid:\n{}",
            kernel.display(),
            e.emit_to_string(source)
        )
    })?;
    Ok(())
}
