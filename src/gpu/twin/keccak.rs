//! Keccak-256 over 32-bit half-lanes, as `shaders/shared/keccak.wgsl` and `shaders/keccak256.wgsl`
//! compute it.
//!
//! The state is 50 words: lane j is (low = s[2j], high = s[2j+1]), so a 64-bit rotation is two
//! 32-bit shifts per half. A message is absorbed in 136-byte blocks read as 34 little-endian words
//! straight from the packed batch buffer (at any byte alignment), with the pad10*1 bits (0x01 after
//! the message, 0x80 in the block's last byte) XORed into the final block.

/// Rate of Keccak-256 in bytes.
pub const RATE: usize = 136;
/// Rate in 32-bit words.
pub const RATE_WORDS: usize = RATE / 4;

/// Round constants, as (low, high) words.
pub const RC: [(u32, u32); 24] = [
    (0x0000_0001, 0x0000_0000),
    (0x0000_8082, 0x0000_0000),
    (0x0000_808A, 0x8000_0000),
    (0x8000_8000, 0x8000_0000),
    (0x0000_808B, 0x0000_0000),
    (0x8000_0001, 0x0000_0000),
    (0x8000_8081, 0x8000_0000),
    (0x0000_8009, 0x8000_0000),
    (0x0000_008A, 0x0000_0000),
    (0x0000_0088, 0x0000_0000),
    (0x8000_8009, 0x0000_0000),
    (0x8000_000A, 0x0000_0000),
    (0x8000_808B, 0x0000_0000),
    (0x0000_008B, 0x8000_0000),
    (0x0000_8089, 0x8000_0000),
    (0x0000_8003, 0x8000_0000),
    (0x0000_8002, 0x8000_0000),
    (0x0000_0080, 0x8000_0000),
    (0x0000_800A, 0x0000_0000),
    (0x8000_000A, 0x8000_0000),
    (0x8000_8081, 0x8000_0000),
    (0x0000_8080, 0x8000_0000),
    (0x8000_0001, 0x0000_0000),
    (0x8000_8008, 0x8000_0000),
];

/// Rotation offset of lane x + 5y.
pub const ROT: [u32; 25] = [
    0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
];

/// Rotates the lane (lo, hi) left by n bits.
pub fn rotl(lo: u32, hi: u32, n: u32) -> (u32, u32) {
    if n == 0 {
        (lo, hi)
    } else if n < 32 {
        ((lo << n) | (hi >> (32 - n)), (hi << n) | (lo >> (32 - n)))
    } else if n == 32 {
        (hi, lo)
    } else {
        let m = n - 32;
        ((hi << m) | (lo >> (32 - m)), (lo << m) | (hi >> (32 - m)))
    }
}

/// The Keccak-f[1600] permutation.
pub fn keccak_f(s: &mut [u32; 50]) {
    for &(rc_lo, rc_hi) in &RC {
        // θ
        let mut c = [0u32; 10];
        for x in 0..5 {
            for h in 0..2 {
                c[2 * x + h] = s[2 * x + h]
                    ^ s[2 * (x + 5) + h]
                    ^ s[2 * (x + 10) + h]
                    ^ s[2 * (x + 15) + h]
                    ^ s[2 * (x + 20) + h];
            }
        }
        for x in 0..5 {
            let (rl, rh) = rotl(c[2 * ((x + 1) % 5)], c[2 * ((x + 1) % 5) + 1], 1);
            let dl = c[2 * ((x + 4) % 5)] ^ rl;
            let dh = c[2 * ((x + 4) % 5) + 1] ^ rh;
            for y in 0..5 {
                s[2 * (x + 5 * y)] ^= dl;
                s[2 * (x + 5 * y) + 1] ^= dh;
            }
        }
        // ρ and π: B[y, 2x + 3y] = rot(A[x, y], r[x, y]).
        let mut b = [0u32; 50];
        for x in 0..5 {
            for y in 0..5 {
                let src = x + 5 * y;
                let dst = y + 5 * ((2 * x + 3 * y) % 5);
                let (l, h) = rotl(s[2 * src], s[2 * src + 1], ROT[src]);
                b[2 * dst] = l;
                b[2 * dst + 1] = h;
            }
        }
        // χ
        for y in 0..5 {
            for x in 0..5 {
                let i = x + 5 * y;
                let i1 = (x + 1) % 5 + 5 * y;
                let i2 = (x + 2) % 5 + 5 * y;
                for h in 0..2 {
                    s[2 * i + h] = b[2 * i + h] ^ (!b[2 * i1 + h] & b[2 * i2 + h]);
                }
            }
        }
        // ι
        s[0] ^= rc_lo;
        s[1] ^= rc_hi;
    }
}

/// Word k of `len` message bytes starting at byte `start` of `data`, zero past the message, with
/// the pad bits of a block ending at `block_end` (the kernel's `message_word`).
pub fn message_word(
    data: &[u32],
    start: u32,
    len: u32,
    pos: u32,
    last_block: bool,
    k: usize,
) -> u32 {
    let mut w = 0u32;
    if pos < len {
        let a = start + pos;
        let i = (a >> 2) as usize;
        let sh = (a & 3) * 8;
        let w0 = data.get(i).copied().unwrap_or(0);
        w = if sh == 0 {
            w0
        } else {
            let w1 = data.get(i + 1).copied().unwrap_or(0);
            (w0 >> sh) | (w1 << (32 - sh))
        };
        let rem = len - pos;
        if rem < 4 {
            w &= (1u32 << (8 * rem)) - 1;
        }
    }
    if len >= pos && len - pos < 4 {
        w ^= 1u32 << (8 * (len - pos));
    }
    if last_block && k == RATE_WORDS - 1 {
        w ^= 0x8000_0000;
    }
    w
}

/// keccak256 of `data`'s bytes `[start, start + len)`, as 8 little-endian words.
pub fn keccak_words(data: &[u32], start: u32, len: u32) -> [u32; 8] {
    let mut s = [0u32; 50];
    let blocks = len / RATE as u32 + 1;
    for blk in 0..blocks {
        let last = blk + 1 == blocks;
        for (k, word) in s.iter_mut().enumerate().take(RATE_WORDS) {
            let pos = blk * RATE as u32 + 4 * k as u32;
            *word ^= message_word(data, start, len, pos, last, k);
        }
        keccak_f(&mut s);
    }
    let mut out = [0u32; 8];
    out.copy_from_slice(&s[..8]);
    out
}

/// Packs bytes into little-endian words, with one spare zero word so that an unaligned read of
/// the last word never leaves the buffer.
pub fn pack_words(bytes: &[u8]) -> Vec<u32> {
    let mut words = vec![0u32; bytes.len().div_ceil(4) + 1];
    for (i, b) in bytes.iter().enumerate() {
        words[i / 4] |= u32::from(*b) << (8 * (i % 4));
    }
    words
}

/// The 32 digest bytes of 8 little-endian words.
pub fn words_to_bytes(w: &[u32; 8]) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, x) in w.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keccak256;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    #[test]
    fn matches_keccak256_at_block_edges_and_any_alignment() {
        let mut rng = StdRng::seed_from_u64(6);
        for len in [
            0usize, 1, 3, 4, 5, 63, 64, 65, 131, 132, 133, 134, 135, 136, 137, 271, 272, 273, 1000,
        ] {
            for align in 0..4 {
                let mut buf = vec![0u8; align];
                let msg: Vec<u8> = (0..len).map(|_| rng.random()).collect();
                buf.extend_from_slice(&msg);
                // Bytes after the message must not leak into its hash.
                buf.extend_from_slice(&[0xAB; 9]);
                let words = pack_words(&buf);
                let got = words_to_bytes(&keccak_words(&words, align as u32, len as u32));
                assert_eq!(got, keccak256(&msg).0, "len {len} align {align}");
            }
        }
    }
}
