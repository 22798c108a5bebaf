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
        // Unrolled: constant indices keep the state in registers.
        s[0] ^= message_word(start, len, blk * 136u + 0u, last, 0u);
        s[1] ^= message_word(start, len, blk * 136u + 4u, last, 1u);
        s[2] ^= message_word(start, len, blk * 136u + 8u, last, 2u);
        s[3] ^= message_word(start, len, blk * 136u + 12u, last, 3u);
        s[4] ^= message_word(start, len, blk * 136u + 16u, last, 4u);
        s[5] ^= message_word(start, len, blk * 136u + 20u, last, 5u);
        s[6] ^= message_word(start, len, blk * 136u + 24u, last, 6u);
        s[7] ^= message_word(start, len, blk * 136u + 28u, last, 7u);
        s[8] ^= message_word(start, len, blk * 136u + 32u, last, 8u);
        s[9] ^= message_word(start, len, blk * 136u + 36u, last, 9u);
        s[10] ^= message_word(start, len, blk * 136u + 40u, last, 10u);
        s[11] ^= message_word(start, len, blk * 136u + 44u, last, 11u);
        s[12] ^= message_word(start, len, blk * 136u + 48u, last, 12u);
        s[13] ^= message_word(start, len, blk * 136u + 52u, last, 13u);
        s[14] ^= message_word(start, len, blk * 136u + 56u, last, 14u);
        s[15] ^= message_word(start, len, blk * 136u + 60u, last, 15u);
        s[16] ^= message_word(start, len, blk * 136u + 64u, last, 16u);
        s[17] ^= message_word(start, len, blk * 136u + 68u, last, 17u);
        s[18] ^= message_word(start, len, blk * 136u + 72u, last, 18u);
        s[19] ^= message_word(start, len, blk * 136u + 76u, last, 19u);
        s[20] ^= message_word(start, len, blk * 136u + 80u, last, 20u);
        s[21] ^= message_word(start, len, blk * 136u + 84u, last, 21u);
        s[22] ^= message_word(start, len, blk * 136u + 88u, last, 22u);
        s[23] ^= message_word(start, len, blk * 136u + 92u, last, 23u);
        s[24] ^= message_word(start, len, blk * 136u + 96u, last, 24u);
        s[25] ^= message_word(start, len, blk * 136u + 100u, last, 25u);
        s[26] ^= message_word(start, len, blk * 136u + 104u, last, 26u);
        s[27] ^= message_word(start, len, blk * 136u + 108u, last, 27u);
        s[28] ^= message_word(start, len, blk * 136u + 112u, last, 28u);
        s[29] ^= message_word(start, len, blk * 136u + 116u, last, 29u);
        s[30] ^= message_word(start, len, blk * 136u + 120u, last, 30u);
        s[31] ^= message_word(start, len, blk * 136u + 124u, last, 31u);
        s[32] ^= message_word(start, len, blk * 136u + 128u, last, 32u);
        s[33] ^= message_word(start, len, blk * 136u + 132u, last, 33u);
        keccak_f(&s);
    }
    for (var k = 0u; k < 8u; k++) {
        digests[idx * 8u + k] = s[k];
    }
}
