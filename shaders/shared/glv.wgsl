// shared/glv.wgsl: constants of the GLV split k = k1 + k2*lambda (mod n), |k1|, |k2| < 2^128
// (the split itself runs through the field machine in recover_prepare.wgsl), the signed halves,
// and their signed 4-bit digits. Twin: src/gpu/twin/glv.rs (constants are checked there).

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
// Signed 4-bit digits per half: 32 windows of a 128-bit magnitude plus the final carry.
const DIGITS: u32 = 33u;

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

// The signed 4-bit digits of a 128-bit magnitude, each stored plus 8 (0..15; the top one 8 or
// 9): sum (d_i - 8) * 16^i = mag (twin: glv::signed_digits).
fn signed_digits(mag: array<u32, 4>) -> array<u32, DIGITS> {
    var out: array<u32, DIGITS>;
    var carry = 0u;
    for (var i = 0u; i < opaque(DIGITS - 1u); i++) {
        let v = ((mag[i / 8u] >> ((i % 8u) * 4u)) & 15u) + carry;
        carry = select(0u, 1u, v >= 8u);
        out[i] = v + 8u - 16u * carry;
    }
    out[DIGITS - 1u] = carry + 8u;
    return out;
}
