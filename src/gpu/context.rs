//! The one long-lived wgpu context: adapter, device, queue, the four compute pipelines (created
//! once, through a pipeline cache where the backend has one), the G table and pooled buffers.
//!
//! Invariant: every operation either returns the kernels' complete output for its inputs or a
//! `GpuError`; wgpu's uncaptured errors and device loss are recorded and turned into errors
//! rather than panics. One batch at a time uses the pooled buffers (a mutex guards them).

use super::error::GpuError;
use super::layout::{AffinePoint, OutSlot, Params, RecoverInput};
use super::shaders;
use super::twin::curve::g_table;
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use wgpu::util::DeviceExt;

/// Invocations per workgroup in every kernel (`WG_SIZE` in `shaders/shared/layout.wgsl`).
const WG_SIZE: u32 = 64;
/// Workgroups per dispatch dimension guaranteed by WebGPU; larger dispatches go 2-D.
const MAX_GROUPS_PER_DIM: u32 = 65_535;
/// Items per invocation of `recover_finish` (`FINISH_CHUNK` in `recover_finish.wgsl`).
const FINISH_CHUNK: u32 = super::twin::recover::FINISH_CHUNK as u32;
/// Items per invocation of `recover_prepare` (`PREP_CHUNK` in `recover_prepare.wgsl`).
const PREP_CHUNK: u32 = super::twin::recover::PREP_CHUNK as u32;
/// Recoveries per submission: bounds buffer sizes (~9 MB of slots) and the time one submission
/// holds the GPU, so a real GPU's watchdog never fires and a batch on lavapipe still streams.
pub const RECOVER_DISPATCH_LIMIT: usize = 32_768;
/// Messages per keccak submission.
pub const KECCAK_DISPATCH_LIMIT: usize = 262_144;
/// Message bytes per keccak submission (well under the 128 MiB default storage binding limit).
pub const KECCAK_DISPATCH_BYTES: usize = 32 << 20;

/// The compute pipelines, created once.
#[derive(Debug)]
struct Pipelines {
    keccak: wgpu::ComputePipeline,
    prepare: wgpu::ComputePipeline,
    mul: wgpu::ComputePipeline,
    finish: wgpu::ComputePipeline,
}

/// A buffer that grows to the largest size asked of it.
#[derive(Debug)]
struct Pooled {
    label: &'static str,
    usage: wgpu::BufferUsages,
    buf: Option<wgpu::Buffer>,
}

impl Pooled {
    fn new(label: &'static str, usage: wgpu::BufferUsages) -> Self {
        Self {
            label,
            usage,
            buf: None,
        }
    }
    /// A buffer of at least `size` bytes (rounded up to a power of two, at least 256).
    fn get(&mut self, device: &wgpu::Device, size: u64) -> wgpu::Buffer {
        let need = size.max(256).next_power_of_two();
        match &self.buf {
            Some(b) if b.size() >= need => b.clone(),
            _ => {
                let b = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(self.label),
                    size: need,
                    usage: self.usage,
                    mapped_at_creation: false,
                });
                self.buf = Some(b.clone());
                b
            }
        }
    }
}

/// The pooled buffers, one set for hashing and one for recovery.
#[derive(Debug)]
struct Pool {
    params: wgpu::Buffer,
    k_data: Pooled,
    k_offsets: Pooled,
    k_digests: Pooled,
    k_read: Pooled,
    r_input: Pooled,
    r_prep: Pooled,
    r_jac: Pooled,
    r_out: Pooled,
    r_read: Pooled,
}

/// The GPU context.
#[derive(Debug)]
pub struct Context {
    info: wgpu::AdapterInfo,
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipelines: Pipelines,
    g_table: wgpu::Buffer,
    pool: Mutex<Pool>,
    errors: Arc<Mutex<Vec<String>>>,
    init_time: Duration,
    pipeline_cache: Option<PathBuf>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep going with it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Where the pipeline cache lives: `$RANGER_CACHE_DIR`, else `$XDG_CACHE_HOME/ranger`, else
/// `~/.cache/ranger`.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("RANGER_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("ranger"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("ranger"))
}

/// The adapter named by `WGPU_ADAPTER_NAME`, or the default one for `WGPU_BACKEND` /
/// `WGPU_POWER_PREF`.
fn pick_adapter(
    instance: &wgpu::Instance,
    backends: wgpu::Backends,
) -> Result<wgpu::Adapter, GpuError> {
    if let Ok(wanted) = std::env::var("WGPU_ADAPTER_NAME") {
        let adapters = pollster::block_on(instance.enumerate_adapters(backends));
        let lower = wanted.to_lowercase();
        let mut names = Vec::new();
        for a in adapters {
            let info = a.get_info();
            if info.name.to_lowercase().contains(&lower) {
                return Ok(a);
            }
            names.push(format!("{} ({:?})", info.name, info.backend));
        }
        if names.is_empty() {
            return Err(GpuError::NoAdapter {
                backends: format!("{backends:?}"),
            });
        }
        return Err(GpuError::AdapterNotFound {
            wanted,
            available: names.join(", "),
        });
    }
    let opts = wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::from_env()
            .unwrap_or(wgpu::PowerPreference::HighPerformance),
        force_fallback_adapter: false,
        compatible_surface: None,
        ..Default::default()
    };
    pollster::block_on(instance.request_adapter(&opts)).map_err(|_| GpuError::NoAdapter {
        backends: format!("{backends:?}"),
    })
}

/// The adapter the GPU backend uses (see `pick_adapter`), without opening a device: cheap enough
/// for `auto` to read its device type before deciding anything.
pub(super) fn adapter() -> Result<wgpu::Adapter, GpuError> {
    let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all());
    let desc = wgpu::InstanceDescriptor {
        backends,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    };
    let instance = wgpu::Instance::new(desc);
    pick_adapter(&instance, backends)
}

impl Context {
    /// Opens the adapter and device, builds the pipelines and uploads the G table.
    pub fn new() -> Result<Context, GpuError> {
        let start = Instant::now();
        let adapter = adapter()?;
        let info = adapter.get_info();
        let adapter_name = format!("{} ({:?})", info.name, info.backend);
        let cache_supported = adapter.features().contains(wgpu::Features::PIPELINE_CACHE);
        let required_features = if cache_supported {
            wgpu::Features::PIPELINE_CACHE
        } else {
            wgpu::Features::empty()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("ranger-gpu"),
            required_features,
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::RequestDevice {
            adapter: adapter_name.clone(),
            reason: e.to_string(),
        })?;

        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            lock(&sink).push(e.to_string());
        }));
        let lost = errors.clone();
        device.set_device_lost_callback(move |reason, msg| {
            lock(&lost).push(format!("device lost ({reason:?}): {msg}"));
        });

        let cache_path = if cache_supported {
            wgpu::util::pipeline_cache_key(&info).and_then(|key| cache_dir().map(|d| d.join(key)))
        } else {
            None
        };
        let cache = cache_path.as_ref().map(|p| open_pipeline_cache(&device, p));
        let pipelines = Pipelines {
            keccak: pipeline(&device, cache.as_ref(), "keccak256", shaders::KECCAK256),
            prepare: pipeline(
                &device,
                cache.as_ref(),
                "recover_prepare",
                shaders::RECOVER_PREPARE,
            ),
            mul: pipeline(&device, cache.as_ref(), "recover_mul", shaders::RECOVER_MUL),
            finish: pipeline(
                &device,
                cache.as_ref(),
                "recover_finish",
                shaders::RECOVER_FINISH,
            ),
        };
        tracing::debug!(
            target: "ranger::gpu",
            elapsed_ms = start.elapsed().as_millis() as u64,
            cached = cache_path.as_ref().is_some_and(|p| p.exists()),
            "pipelines ready"
        );
        if let (Some(cache), Some(path)) = (&cache, &cache_path) {
            save_pipeline_cache(cache, path);
        }

        let table: Vec<AffinePoint> = g_table();
        let g_table = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("ranger-g-table"),
            contents: bytemuck::cast_slice(&table),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("ranger-params"),
            size: std::mem::size_of::<Params>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        use wgpu::BufferUsages as U;
        let storage_in = U::STORAGE | U::COPY_DST;
        let storage_out = U::STORAGE | U::COPY_SRC;
        let read = U::MAP_READ | U::COPY_DST;
        let pool = Pool {
            params,
            k_data: Pooled::new("ranger-keccak-data", storage_in),
            k_offsets: Pooled::new("ranger-keccak-offsets", storage_in),
            k_digests: Pooled::new("ranger-keccak-digests", storage_out),
            k_read: Pooled::new("ranger-keccak-readback", read),
            r_input: Pooled::new("ranger-recover-input", storage_in),
            r_prep: Pooled::new("ranger-recover-prep", U::STORAGE),
            r_jac: Pooled::new("ranger-recover-jac", U::STORAGE),
            r_out: Pooled::new("ranger-recover-out", storage_out),
            r_read: Pooled::new("ranger-recover-readback", read),
        };
        let ctx = Context {
            info,
            device,
            queue,
            pipelines,
            g_table,
            pool: Mutex::new(pool),
            errors,
            init_time: start.elapsed(),
            pipeline_cache: cache_path,
        };
        ctx.check_errors()?;
        Ok(ctx)
    }

    /// The adapter in use.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// Time spent opening the device, compiling pipelines and uploading the G table.
    pub fn init_time(&self) -> Duration {
        self.init_time
    }

    /// The pipeline cache file, when the backend supports one.
    pub fn pipeline_cache_path(&self) -> Option<&PathBuf> {
        self.pipeline_cache.as_ref()
    }

    fn check_errors(&self) -> Result<(), GpuError> {
        let mut errs = lock(&self.errors);
        if errs.is_empty() {
            return Ok(());
        }
        let msg = errs.join("; ");
        errs.clear();
        if msg.contains("device lost") {
            Err(GpuError::DeviceLost(msg))
        } else {
            Err(GpuError::Device(msg))
        }
    }

    fn bind(
        &self,
        label: &str,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[&wgpu::Buffer],
    ) -> wgpu::BindGroup {
        let layout = pipeline.get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry<'_>> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &layout,
            entries: &entries,
        })
    }

    /// Submits `encoder`, then maps `read` and returns its first `len` bytes.
    fn submit_and_read(
        &self,
        encoder: wgpu::CommandEncoder,
        read: &wgpu::Buffer,
        len: u64,
    ) -> Result<Vec<u8>, GpuError> {
        let index = self.queue.submit(Some(encoder.finish()));
        let slice = read.slice(..len);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            })
            .map_err(|e| GpuError::DeviceLost(e.to_string()))?;
        self.check_errors()?;
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(GpuError::Readback(e.to_string())),
            Err(_) => return Err(GpuError::Readback("map callback never ran".into())),
        }
        let bytes = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| GpuError::Readback(e.to_string()))?;
            view.to_vec()
        };
        read.unmap();
        Ok(bytes)
    }

    /// keccak256 of messages packed as `words` (little-endian, one spare word) with `offsets`
    /// (`count + 1` entries, byte offsets into `words`), as 8 words per message.
    pub fn keccak(&self, words: &[u32], offsets: &[u32]) -> Result<Vec<u32>, GpuError> {
        let count = offsets.len().saturating_sub(1);
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut pool = lock(&self.pool);
        let data = pool.k_data.get(&self.device, 4 * words.len() as u64);
        let offs = pool.k_offsets.get(&self.device, 4 * offsets.len() as u64);
        let out_len = 32 * count as u64;
        let digests = pool.k_digests.get(&self.device, out_len);
        let read = pool.k_read.get(&self.device, out_len);
        let params = Params {
            count: count as u32,
            zero: 0,
            pad: [0; 2],
        };
        self.queue
            .write_buffer(&pool.params, 0, bytemuck::bytes_of(&params));
        self.queue
            .write_buffer(&data, 0, bytemuck::cast_slice(words));
        self.queue
            .write_buffer(&offs, 0, bytemuck::cast_slice(offsets));
        let bg = self.bind(
            "ranger-keccak-bind",
            &self.pipelines.keccak,
            &[&pool.params, &data, &offs, &digests],
        );
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("ranger-keccak-encoder"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("ranger-keccak-pass"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipelines.keccak);
            pass.set_bind_group(0, &bg, &[]);
            let (x, y) = groups(count as u32);
            pass.dispatch_workgroups(x, y, 1);
        }
        enc.copy_buffer_to_buffer(&digests, 0, &read, 0, out_len);
        let bytes = self.submit_and_read(enc, &read, out_len)?;
        drop(pool);
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Runs the three recovery passes over `inputs` (at most `RECOVER_DISPATCH_LIMIT`).
    pub fn recover(&self, inputs: &[RecoverInput]) -> Result<Vec<OutSlot>, GpuError> {
        self.recover_inner(inputs, None)
    }

    /// As [`Context::recover`], but each pass is submitted alone and waited for, and its wall
    /// time is returned (prepare, mul, finish): a profile, slower than `recover`.
    pub fn recover_profiled(
        &self,
        inputs: &[RecoverInput],
    ) -> Result<(Vec<OutSlot>, [Duration; 3]), GpuError> {
        let mut times = [Duration::ZERO; 3];
        let out = self.recover_inner(inputs, Some(&mut times))?;
        Ok((out, times))
    }

    fn recover_inner(
        &self,
        inputs: &[RecoverInput],
        mut profile: Option<&mut [Duration; 3]>,
    ) -> Result<Vec<OutSlot>, GpuError> {
        let count = inputs.len();
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut pool = lock(&self.pool);
        let input = pool
            .r_input
            .get(&self.device, std::mem::size_of_val(inputs) as u64);
        let prep = pool.r_prep.get(
            &self.device,
            (count * std::mem::size_of::<super::layout::PrepSlot>()) as u64,
        );
        let jac = pool.r_jac.get(
            &self.device,
            (count * std::mem::size_of::<super::layout::ProjSlot>()) as u64,
        );
        let out_len = (count * std::mem::size_of::<OutSlot>()) as u64;
        let out = pool.r_out.get(&self.device, out_len);
        let read = pool.r_read.get(&self.device, out_len);
        let params = Params {
            count: count as u32,
            zero: 0,
            pad: [0; 2],
        };
        self.queue
            .write_buffer(&pool.params, 0, bytemuck::bytes_of(&params));
        self.queue
            .write_buffer(&input, 0, bytemuck::cast_slice(inputs));
        let p = &self.pipelines;
        let bg_prep = self.bind(
            "ranger-prepare-bind",
            &p.prepare,
            &[&pool.params, &input, &prep],
        );
        let bg_mul = self.bind(
            "ranger-mul-bind",
            &p.mul,
            &[&pool.params, &prep, &self.g_table, &jac],
        );
        let bg_fin = self.bind("ranger-finish-bind", &p.finish, &[&pool.params, &jac, &out]);
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("ranger-recover-encoder"),
            });
        let n = count as u32;
        for (pass_no, (label, pipe, bg, items)) in [
            (
                "ranger-recover-prepare",
                &p.prepare,
                &bg_prep,
                n.div_ceil(PREP_CHUNK),
            ),
            ("ranger-recover-mul", &p.mul, &bg_mul, n),
            (
                "ranger-recover-finish",
                &p.finish,
                &bg_fin,
                n.div_ceil(FINISH_CHUNK),
            ),
        ]
        .into_iter()
        .enumerate()
        {
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some(label),
                    timestamp_writes: None,
                });
                pass.set_pipeline(pipe);
                pass.set_bind_group(0, bg, &[]);
                let (x, y) = groups(items);
                pass.dispatch_workgroups(x, y, 1);
            }
            if let Some(times) = profile.as_deref_mut() {
                let t = Instant::now();
                let done = std::mem::replace(
                    &mut enc,
                    self.device
                        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                            label: Some("ranger-recover-encoder"),
                        }),
                );
                let index = self.queue.submit(Some(done.finish()));
                self.device
                    .poll(wgpu::PollType::Wait {
                        submission_index: Some(index),
                        timeout: None,
                    })
                    .map_err(|e| GpuError::DeviceLost(e.to_string()))?;
                times[pass_no] = t.elapsed();
            }
        }
        enc.copy_buffer_to_buffer(&out, 0, &read, 0, out_len);
        let bytes = self.submit_and_read(enc, &read, out_len)?;
        drop(pool);
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }
}

/// Workgroup counts (x, y) covering `invocations` with `WG_SIZE`-wide groups.
fn groups(invocations: u32) -> (u32, u32) {
    let g = invocations.div_ceil(WG_SIZE).max(1);
    if g <= MAX_GROUPS_PER_DIM {
        (g, 1)
    } else {
        (MAX_GROUPS_PER_DIM, g.div_ceil(MAX_GROUPS_PER_DIM))
    }
}

fn pipeline(
    device: &wgpu::Device,
    cache: Option<&wgpu::PipelineCache>,
    entry: &str,
    source: &str,
) -> wgpu::ComputePipeline {
    let t = Instant::now();
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(entry),
        source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(source)),
    });
    let p = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry),
        layout: None,
        module: &module,
        entry_point: Some(entry),
        compilation_options: wgpu::PipelineCompilationOptions::default(),
        cache,
    });
    tracing::debug!(target: "ranger::gpu", entry, ms = t.elapsed().as_millis() as u64, "pipeline compiled");
    p
}

/// A pipeline cache seeded from `path` when that file exists.
#[allow(unsafe_code)]
fn open_pipeline_cache(device: &wgpu::Device, path: &PathBuf) -> wgpu::PipelineCache {
    let data = std::fs::read(path).ok();
    // SAFETY: wgpu requires `data` to come from `PipelineCache::get_data` of an adapter with the
    // same `pipeline_cache_key`. The file is named by that key and only ever written by
    // `save_pipeline_cache` below; the driver validates the header (vendor, device, driver
    // version, checksum) and `fallback: true` makes it start empty on any mismatch.
    unsafe {
        device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
            label: Some("ranger-pipeline-cache"),
            data: data.as_deref(),
            fallback: true,
        })
    }
}

/// Writes the cache atomically (temp file + rename); failures only cost the next start time.
fn save_pipeline_cache(cache: &wgpu::PipelineCache, path: &PathBuf) {
    let Some(data) = cache.get_data() else { return };
    let Some(dir) = path.parent() else { return };
    let tmp = path.with_extension("tmp");
    let result = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, &data))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        tracing::debug!(target: "ranger::gpu", path = %path.display(), error = %e, "pipeline cache not saved");
    }
}
