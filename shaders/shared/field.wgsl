// shared/field.wgsl: 256-bit arithmetic modulo p and modulo n on eight 32-bit limbs, always fully
// reduced; the 512-bit product and the reductions are generated, unrolled, in arith.wgsl.
// Twin: src/gpu/twin/field.rs (same functions, same names). WGSL has no 64-bit integers and no
// mul-high, so 32x32->64 products are built from 16-bit halves (mul32). Both moduli are
// 2^256 - c with a short c, so a 512-bit product reduces by folding hi*c into lo.

alias Limbs = array<u32, 8>;

const P: Limbs = Limbs(0xFFFFFC2Fu, 0xFFFFFFFEu, 0xFFFFFFFFu, 0xFFFFFFFFu,
                       0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu);
const P_C: array<u32, 5> = array<u32, 5>(977u, 1u, 0u, 0u, 0u);
const P_C_LEN: u32 = 2u;
const N: Limbs = Limbs(0xD0364141u, 0xBFD25E8Cu, 0xAF48A03Bu, 0xBAAEDCE6u,
                       0xFFFFFFFEu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu);
const N_C: array<u32, 5> = array<u32, 5>(0x2FC9BEBFu, 0x402DA173u, 0x50B75FC4u, 0x45512319u, 1u);
const N_C_LEN: u32 = 5u;
const P_MINUS_2: Limbs = Limbs(0xFFFFFC2Du, 0xFFFFFFFEu, 0xFFFFFFFFu, 0xFFFFFFFFu,
                               0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu);
const P_SQRT_EXP: Limbs = Limbs(0xBFFFFF0Cu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu,
                                0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0x3FFFFFFFu);
const N_MINUS_2: Limbs = Limbs(0xD036413Fu, 0xBFD25E8Cu, 0xAF48A03Bu, 0xBAAEDCE6u,
                               0xFFFFFFFEu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu);
const ZERO: Limbs = Limbs(0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
const ONE: Limbs = Limbs(1u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);

// The 64-bit product a*b as (low, high), from four 16x16 products.
fn mul32(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xFFFFu;
    let a1 = a >> 16u;
    let b0 = b & 0xFFFFu;
    let b1 = b >> 16u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 16u) + (p01 & 0xFFFFu) + (p10 & 0xFFFFu);
    let lo = (p00 & 0xFFFFu) | (mid << 16u);
    let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
    return vec2<u32>(lo, hi);
}

// t + a*b + c as (low, high); never overflows 64 bits.
fn mac(t: u32, a: u32, b: u32, c: u32) -> vec2<u32> {
    let p = mul32(a, b);
    let s1 = t + p.x;
    let c1 = select(0u, 1u, s1 < t);
    let s2 = s1 + c;
    let c2 = select(0u, 1u, s2 < s1);
    return vec2<u32>(s2, p.y + c1 + c2);
}

// a >= m (no borrow out of a - m).
fn gte(a: Limbs, m: Limbs) -> bool {
    return sub_borrow(a, m).borrow == 0u;
}

// a - m (wrapping); the borrow is not needed by callers.
fn sub_raw(a: Limbs, m: Limbs) -> Limbs {
    var r: Limbs;
    var borrow = 0u;
    for (var i = 0u; i < 8u; i++) {
        let d = a[i] - m[i];
        let b1 = select(0u, 1u, a[i] < m[i]);
        let e = d - borrow;
        let b2 = select(0u, 1u, d < borrow);
        r[i] = e;
        borrow = b1 + b2;
    }
    return r;
}

// a - m with the borrow in the returned flag.
struct SubResult {
    v: Limbs,
    borrow: u32,
}

fn sub_borrow(a: Limbs, m: Limbs) -> SubResult {
    var r: Limbs;
    var borrow = 0u;
    for (var i = 0u; i < 8u; i++) {
        let d = a[i] - m[i];
        let b1 = select(0u, 1u, a[i] < m[i]);
        let e = d - borrow;
        let b2 = select(0u, 1u, d < borrow);
        r[i] = e;
        borrow = b1 + b2;
    }
    return SubResult(r, borrow);
}

// a + m with the carry in the returned flag.
fn add_carry(a: Limbs, m: Limbs) -> SubResult {
    var r: Limbs;
    var carry = 0u;
    for (var i = 0u; i < 8u; i++) {
        let s = a[i] + m[i];
        let c1 = select(0u, 1u, s < a[i]);
        let t = s + carry;
        let c2 = select(0u, 1u, t < s);
        r[i] = t;
        carry = c1 + c2;
    }
    return SubResult(r, carry);
}

fn add_mod(a: Limbs, b: Limbs, m: Limbs) -> Limbs {
    let s = add_carry(a, b);
    if (s.borrow != 0u || gte(s.v, m)) {
        return sub_raw(s.v, m);
    }
    return s.v;
}

fn sub_mod(a: Limbs, b: Limbs, m: Limbs) -> Limbs {
    let d = sub_borrow(a, b);
    if (d.borrow != 0u) {
        return add_carry(d.v, m).v;
    }
    return d.v;
}

fn neg_mod(a: Limbs, m: Limbs) -> Limbs {
    return sub_mod(ZERO, a, m);
}

fn is_zero(a: Limbs) -> bool {
    var acc = 0u;
    for (var i = 0u; i < 8u; i++) {
        acc = acc | a[i];
    }
    return acc == 0u;
}

fn limbs_eq(a: Limbs, b: Limbs) -> bool {
    var acc = 0u;
    for (var i = 0u; i < 8u; i++) {
        acc = acc | (a[i] ^ b[i]);
    }
    return acc == 0u;
}

fn fe_neg(a: Limbs) -> Limbs {
    return neg_mod(a, P);
}

// b when c, else a, limb by limb.
fn select_limbs(a: Limbs, b: Limbs, c: bool) -> Limbs {
    return Limbs(select(a[0], b[0], c), select(a[1], b[1], c), select(a[2], b[2], c),
                 select(a[3], b[3], c), select(a[4], b[4], c), select(a[5], b[5], c),
                 select(a[6], b[6], c), select(a[7], b[7], c));
}
