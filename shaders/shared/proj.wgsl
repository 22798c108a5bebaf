// shared/proj.wgsl: points in homogeneous projective coordinates (x = X/Z, y = Y/Z) over the
// radix-2^13 field of f13.wgsl, with the complete formulas of Renes, Costello and Batina (2016;
// a = 0, b3 = 21): no special case for P = Q, P = -Q or infinity (0 : 1 : 0), so SIMD lanes
// never diverge. Everything here is branch-free: lavapipe runs both sides of any branch its
// lanes disagree on. Twin: src/gpu/twin/curve.rs (Proj, proj_add, proj_add_affine, proj_dbl)
// over src/gpu/twin/f13.rs.

struct Proj {
    x: F13,
    y: F13,
    z: F13,
}

const PROJ_INFINITY: Proj = Proj(F13_ZERO, F13_ONE, F13_ZERO);

fn sel_proj(a: Proj, b: Proj, c: bool) -> Proj {
    return Proj(f13_sel(a.x, b.x, c), f13_sel(a.y, b.y, c), f13_sel(a.z, b.z, c));
}

// The common tail of both additions, from t0 = X1X2, t1 = Y1Y2, t2 = Z1Z2, t3 = X1Y2 + X2Y1,
// t4 = Y1Z2 + Y2Z1, y3 = X1Z2 + X2Z1 (twin: curve::add_tail).
fn add_tail(t0: F13, t1: F13, t2: F13, t3: F13, t4: F13, y3: F13) -> Proj {
    let t0x3 = f13_muls(t0, 3u);
    let t2b = f13_muls(t2, 21u);
    let z3 = f13_add(t1, t2b);
    let t1m = f13_sub(t1, t2b);
    let y3b = f13_muls(y3, 21u);
    let x = f13_sub(f13_mul(t3, t1m), f13_mul(t4, y3b));
    let y = f13_add(f13_mul(t1m, z3), f13_mul(y3b, t0x3));
    let z = f13_add(f13_mul(z3, t4), f13_mul(t0x3, t3));
    return Proj(x, y, z);
}

// P + Q, complete (algorithm 7; twin: curve::proj_add).
fn proj_add(p: Proj, q: Proj) -> Proj {
    let t0 = f13_mul(p.x, q.x);
    let t1 = f13_mul(p.y, q.y);
    let t2 = f13_mul(p.z, q.z);
    let t3 = f13_sub(f13_mul(f13_add(p.x, p.y), f13_add(q.x, q.y)), f13_add(t0, t1));
    let t4 = f13_sub(f13_mul(f13_add(p.y, p.z), f13_add(q.y, q.z)), f13_add(t1, t2));
    let y3 = f13_sub(f13_mul(f13_add(p.x, p.z), f13_add(q.x, q.z)), f13_add(t0, t2));
    return add_tail(t0, t1, t2, t3, t4, y3);
}

// P + (x, y) for a finite affine (x, y), complete in P (algorithm 8; twin:
// curve::proj_add_affine).
fn proj_add_affine(p: Proj, x: F13, y: F13) -> Proj {
    let t0 = f13_mul(p.x, x);
    let t1 = f13_mul(p.y, y);
    let t3 = f13_sub(f13_mul(f13_add(x, y), f13_add(p.x, p.y)), f13_add(t0, t1));
    let t4 = f13_add(f13_mul(y, p.z), p.y);
    let y3 = f13_add(f13_mul(x, p.z), p.x);
    return add_tail(t0, t1, p.z, t3, t4, y3);
}

// 2P, complete (algorithm 9; twin: curve::proj_dbl).
fn proj_dbl(p: Proj) -> Proj {
    let t0 = f13_sqr(p.y);
    let z8 = f13_muls(t0, 8u);
    let t1 = f13_mul(p.y, p.z);
    let t2 = f13_muls(f13_sqr(p.z), 21u);
    let x3 = f13_mul(t2, z8);
    let y3 = f13_add(t0, t2);
    let z3 = f13_mul(t1, z8);
    let t0b = f13_sub(t0, f13_muls(t2, 3u));
    let y = f13_add(x3, f13_mul(t0b, y3));
    let x = f13_mul(t0b, f13_mul(p.x, p.y));
    return Proj(f13_add(x, x), y, z3);
}
