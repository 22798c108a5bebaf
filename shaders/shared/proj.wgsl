// shared/proj.wgsl: points in homogeneous projective coordinates (x = X/Z, y = Y/Z) with the
// complete formulas of Renes, Costello and Batina (2016; a = 0, b3 = 21): no special case for
// P = Q, P = -Q or infinity (0 : 1 : 0), so SIMD lanes never diverge. Field operations here are
// branch-free too: lavapipe runs both sides of any branch its lanes disagree on.
// Twin: src/gpu/twin/curve.rs (Proj, proj_add, proj_add_affine, proj_dbl).

struct Proj {
    x: Limbs,
    y: Limbs,
    z: Limbs,
}

const PROJ_INFINITY: Proj = Proj(Limbs(0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u),
                                 Limbs(1u, 0u, 0u, 0u, 0u, 0u, 0u, 0u),
                                 Limbs(0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u));

fn fe_mul(a: Limbs, b: Limbs) -> Limbs {
    return reduce_p(mul_wide(a, b));
}

fn fe_sqr(a: Limbs) -> Limbs {
    return reduce_p(sqr_wide(a));
}

// b when c, else a, limb by limb.
fn sel(a: Limbs, b: Limbs, c: bool) -> Limbs {
    var r: Limbs;
    for (var i = 0u; i < 8u; i++) {
        r[i] = select(a[i], b[i], c);
    }
    return r;
}

fn sel_proj(a: Proj, b: Proj, c: bool) -> Proj {
    return Proj(sel(a.x, b.x, c), sel(a.y, b.y, c), sel(a.z, b.z, c));
}

// a + b mod p: the sum and the sum minus p, then a select.
fn fe_add(a: Limbs, b: Limbs) -> Limbs {
    let s = add_carry(a, b);
    let d = sub_borrow(s.v, P);
    return sel(s.v, d.v, s.borrow != 0u || d.borrow == 0u);
}

// a - b mod p: the difference and the difference plus p, then a select.
fn fe_sub(a: Limbs, b: Limbs) -> Limbs {
    let d = sub_borrow(a, b);
    let e = add_carry(d.v, P);
    return sel(d.v, e.v, d.borrow != 0u);
}

// 21 * a mod p: 16-bit halves times 21, then 2^256 = 2^32 + 977 folds the top word back.
fn fe_mul21(a: Limbs) -> Limbs {
    var r: Limbs;
    var carry = 0u;
    for (var i = 0u; i < 8u; i++) {
        let lo = (a[i] & 0xFFFFu) * 21u;
        let hi = (a[i] >> 16u) * 21u;
        let s = lo + (hi << 16u);
        let c1 = select(0u, 1u, s < lo);
        let t = s + carry;
        let c2 = select(0u, 1u, t < s);
        r[i] = t;
        carry = (hi >> 16u) + c1 + c2;
    }
    // r + carry * (2^32 + 977), carry < 21; a carry out of that is folded once more (the value
    // is then below 2^38, so nothing carries again).
    for (var round = 0u; round < 2u; round++) {
        let f = add_carry(r, Limbs(carry * 977u, carry, 0u, 0u, 0u, 0u, 0u, 0u));
        r = f.v;
        carry = f.borrow;
    }
    let d = sub_borrow(r, P);
    return sel(r, d.v, d.borrow == 0u);
}

// The common tail of both additions, from t0 = X1X2, t1 = Y1Y2, t2 = Z1Z2, t3 = X1Y2 + X2Y1,
// t4 = Y1Z2 + Y2Z1, y3 = X1Z2 + X2Z1 (twin: curve::add_tail).
fn add_tail(t0: Limbs, t1: Limbs, t2: Limbs, t3: Limbs, t4: Limbs, y3: Limbs) -> Proj {
    let t0x3 = fe_add(fe_add(t0, t0), t0);
    let t2b = fe_mul21(t2);
    let z3 = fe_add(t1, t2b);
    let t1m = fe_sub(t1, t2b);
    let y3b = fe_mul21(y3);
    let x = fe_sub(fe_mul(t3, t1m), fe_mul(t4, y3b));
    let y = fe_add(fe_mul(t1m, z3), fe_mul(y3b, t0x3));
    let z = fe_add(fe_mul(z3, t4), fe_mul(t0x3, t3));
    return Proj(x, y, z);
}

// P + Q, complete (algorithm 7; twin: curve::proj_add).
fn proj_add(p: Proj, q: Proj) -> Proj {
    let t0 = fe_mul(p.x, q.x);
    let t1 = fe_mul(p.y, q.y);
    let t2 = fe_mul(p.z, q.z);
    let t3 = fe_sub(fe_mul(fe_add(p.x, p.y), fe_add(q.x, q.y)), fe_add(t0, t1));
    let t4 = fe_sub(fe_mul(fe_add(p.y, p.z), fe_add(q.y, q.z)), fe_add(t1, t2));
    let y3 = fe_sub(fe_mul(fe_add(p.x, p.z), fe_add(q.x, q.z)), fe_add(t0, t2));
    return add_tail(t0, t1, t2, t3, t4, y3);
}

// P + (x, y) for a finite affine (x, y), complete in P (algorithm 8; twin:
// curve::proj_add_affine).
fn proj_add_affine(p: Proj, x: Limbs, y: Limbs) -> Proj {
    let t0 = fe_mul(p.x, x);
    let t1 = fe_mul(p.y, y);
    let t3 = fe_sub(fe_mul(fe_add(x, y), fe_add(p.x, p.y)), fe_add(t0, t1));
    let t4 = fe_add(fe_mul(y, p.z), p.y);
    let y3 = fe_add(fe_mul(x, p.z), p.x);
    return add_tail(t0, t1, p.z, t3, t4, y3);
}

// 2P, complete (algorithm 9; twin: curve::proj_dbl).
fn proj_dbl(p: Proj) -> Proj {
    let t0 = fe_sqr(p.y);
    var z8 = fe_add(t0, t0);
    z8 = fe_add(z8, z8);
    z8 = fe_add(z8, z8);
    let t1 = fe_mul(p.y, p.z);
    let t2 = fe_mul21(fe_sqr(p.z));
    let x3 = fe_mul(t2, z8);
    let y3 = fe_add(t0, t2);
    let z3 = fe_mul(t1, z8);
    let t0b = fe_sub(t0, fe_add(fe_add(t2, t2), t2));
    let y = fe_add(x3, fe_mul(t0b, y3));
    let x = fe_mul(t0b, fe_mul(p.x, p.y));
    return Proj(fe_add(x, x), y, z3);
}
