//! The devnet's random source: xoshiro256** seeded through SplitMix64 (Blackman & Vigna, 2018),
//! written out here so that a seed names the same chain forever, whatever version of a generator
//! crate the build picks up. Only integer arithmetic: no float, so no libm differences between
//! machines.

/// A seeded, portable pseudo-random generator. Not for secrets.
#[derive(Debug, Clone)]
pub struct DevRng {
    s: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl DevRng {
    /// A generator for `seed` in stream `stream` (independent streams for independent choices,
    /// so adding a choice to one does not shift the others).
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut st = seed ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03);
        let s = [
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
        ];
        Self { s }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (`n > 0`; returns 0 for `n == 0`), without modulo bias (Lemire's
    /// multiply-and-reject).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let b = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
    }
}

/// Zipf-like sampling over `0..n` with weight ⌊2^32 / (rank + 1)⌋ (exponent 1): rank 0 is the
/// hottest account, about `1 / H(n)` of all draws (≈ 8% for 100,000 accounts). Integer weights
/// keep the distribution bit-identical on every machine.
#[derive(Debug, Clone)]
pub struct Zipf {
    cumulative: Vec<u64>,
}

impl Zipf {
    /// The sampler over `0..n`.
    pub fn new(n: usize) -> Self {
        let mut total = 0u64;
        let cumulative = (0..n as u64)
            .map(|r| {
                total += (1u64 << 32) / (r + 1);
                total
            })
            .collect();
        Self { cumulative }
    }

    /// One draw.
    pub fn sample(&self, rng: &mut DevRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0);
        let x = rng.below(total);
        self.cumulative.partition_point(|&c| c <= x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = DevRng::new(1, 0);
                move |_| r.next_u64()
            })
            .collect();
        let mut r = DevRng::new(1, 0);
        assert_eq!(a, (0..4).map(|_| r.next_u64()).collect::<Vec<_>>());
        let mut other = DevRng::new(1, 1);
        assert_ne!(a[0], other.next_u64());
        let mut r = DevRng::new(7, 3);
        for _ in 0..1000 {
            assert!(r.below(10) < 10);
            let x = r.range(5, 6);
            assert!(x == 5 || x == 6);
        }
    }

    #[test]
    fn zipf_is_skewed() {
        let z = Zipf::new(1000);
        let mut r = DevRng::new(3, 0);
        let mut hits = vec![0u32; 1000];
        for _ in 0..20_000 {
            hits[z.sample(&mut r)] += 1;
        }
        // H(1000) ≈ 7.49: rank 0 gets ≈ 13% of draws, rank 999 ≈ 0.013%.
        assert!(hits[0] > 2000, "{}", hits[0]);
        assert!(hits[0] > hits[1] && hits[1] > hits[10]);
        assert!(hits[900..].iter().sum::<u32>() < 400);
    }
}
