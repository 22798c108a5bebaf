// shared/glv.wgsl: constants of the GLV split k = k1 + k2*lambda (mod n), |k1|, |k2| < 2^128
// (the split itself runs through the field machine in recover_prepare.wgsl), the signed halves,
// and the width-5 NAF of a half. Twin: src/gpu/twin/glv.rs (constants are checked there).

const LAMBDA: Limbs = Limbs(0x1B23BD72u, 0xDF02967Cu, 0x20816678u, 0x122E22EAu,
                            0x8812645Au, 0xA5261C02u, 0xC05C30E0u, 0x5363AD4Cu);
const BETA: Limbs = Limbs(0x719501EEu, 0xC1396C28u, 0x12F58995u, 0x9CF04975u,
                          0xAC3434E9u, 0x6E64479Eu, 0x657C0710u, 0x7AE96A2Bu);
const MINUS_B1: Limbs = Limbs(0x0ABFE4C3u, 0x6F547FA9u, 0x010E8828u, 0xE4437ED6u, 0u, 0u, 0u, 0u);
const MINUS_B2: Limbs = Limbs(0x3DB1562Cu, 0xD765CDA8u, 0x0774346Du, 0x8A280AC5u,
                              0xFFFFFFFEu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu);
const G1: Limbs = Limbs(0x45DBB031u, 0xE893209Au, 0x71E8CA7Fu, 0x3DAA8A14u,
                        0x9284EB15u, 0xE86C90E4u, 0xA7D46BCDu, 0x3086D221u);
const G2: Limbs = Limbs(0x8AC47F71u, 0x1571B4AEu, 0x9DF506C6u, 0x221208ACu,
                        0x0ABFE4C4u, 0x6F547FA9u, 0x010E8828u, 0xE4437ED6u);
const HALF_N: Limbs = Limbs(0x681B20A0u, 0xDFE92F46u, 0x57A4501Du, 0x5D576E73u,
                            0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0x7FFFFFFFu);
// wNAF digits per half: a 128-bit magnitude has at most 129.
const NAF_LEN: u32 = 130u;

struct Half {
    mag: array<u32, 4>,
    neg: u32,
}

fn signed_half(k: Limbs) -> Half {
    let neg = !gte(HALF_N, k);
    var m = k;
    if (neg) {
        m = neg_mod(k, N);
    }
    return Half(array<u32, 4>(m[0], m[1], m[2], m[3]), select(0u, 1u, neg));
}

// Width-5 NAF of a 128-bit magnitude: digit i is 0 or odd in -15..15.
fn wnaf(mag: array<u32, 4>) -> array<i32, NAF_LEN> {
    var k = array<u32, 5>(mag[0], mag[1], mag[2], mag[3], 0u);
    var out: array<i32, NAF_LEN>;
    for (var d = 0u; d < opaque(NAF_LEN); d++) {
        if ((k[0] & 1u) == 1u) {
            var v = i32(k[0] & 31u);
            if (v >= 16) {
                v = v - 32;
            }
            out[d] = v;
            if (v > 0) {
                var borrow = u32(v);
                for (var i = 0u; i < 5u; i++) {
                    let x = k[i] - borrow;
                    borrow = select(0u, 1u, k[i] < borrow);
                    k[i] = x;
                }
            } else {
                var carry = u32(-v);
                for (var i = 0u; i < 5u; i++) {
                    let x = k[i] + carry;
                    carry = select(0u, 1u, x < carry);
                    k[i] = x;
                }
            }
        }
        for (var i = 0u; i < 4u; i++) {
            k[i] = (k[i] >> 1u) | (k[i + 1u] << 31u);
        }
        k[4] = k[4] >> 1u;
    }
    return out;
}
