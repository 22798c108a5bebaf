// keccak256.wgsl: keccak256 of many messages of any length in one dispatch, one invocation per
// message. Messages are packed back to back in `data` (little-endian words, one spare word at the
// end) with an offsets table: message i is bytes offsets[i]..offsets[i+1].
// Twin: src/gpu/twin/keccak.rs (keccak_words, message_word).
// import: layout keccak

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read_write> digests: array<u32>;

// Word k of a block at byte `pos` of a `len`-byte message starting at byte `start`, with padding.
fn message_word(start: u32, len: u32, pos: u32, last_block: bool, k: u32) -> u32 {
    var w = 0u;
    if (pos < len) {
        let a = start + pos;
        let i = a >> 2u;
        let sh = (a & 3u) * 8u;
        let w0 = data[i];
        if (sh == 0u) {
            w = w0;
        } else {
            w = (w0 >> sh) | (data[i + 1u] << (32u - sh));
        }
        let rem = len - pos;
        if (rem < 4u) {
            w = w & ((1u << (8u * rem)) - 1u);
        }
    }
    if (len >= pos && len - pos < 4u) {
        w = w ^ (1u << (8u * (len - pos)));
    }
    if (last_block && k == RATE_WORDS - 1u) {
        w = w ^ 0x80000000u;
    }
    return w;
}

@compute @workgroup_size(64)
fn keccak256(@builtin(global_invocation_id) gid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat_index(gid, nwg);
    if (idx >= params.count) {
        return;
    }
    let start = offsets[idx];
    let len = offsets[idx + 1u] - start;
    var s: array<u32, 50>;
    let blocks = len / 136u + 1u;
    for (var blk = 0u; blk < blocks; blk++) {
        let last = blk + 1u == blocks;
        for (var k = 0u; k < RATE_WORDS; k++) {
            s[k] ^= message_word(start, len, blk * 136u + 4u * k, last, k);
        }
        keccak_f(&s);
    }
    for (var k = 0u; k < 8u; k++) {
        digests[idx * 8u + k] = s[k];
    }
}
