// recover_mul.wgsl: pass 2 of recovery. Q = k1*R + k2*phi(R) + u1*G in projective coordinates
// over the radix-2^13 field, with complete formulas: one Strauss-Shamir chain over signed 4-bit digits of the GLV halves
// (4 doublings and 2 table additions per window), then 20 additions of affine entries of the G
// table (signed 13-bit digits of u1, no doubling). The schedule is the same for every input and table entries are picked
// with selects, so the SIMD lanes of lavapipe never diverge. Code 4 when Q is at infinity.
// Twin: src/gpu/twin/recover.rs (multiply).
// import: layout field glv f13 proj

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> prep: array<PrepSlot>;
@group(0) @binding(2) var<storage, read> g_table: array<AffinePoint>;
@group(0) @binding(3) var<storage, read_write> jac: array<ProjSlot>;

// The G table: window w holds m * 2^(13w) * G for m = 1..4096 (twin: curve::g_table).
const G_BITS: u32 = 13u;
const G_ENTRIES: u32 = 4096u;
const G_WINDOWS: u32 = 20u;
// Multiples 1..8 of R (signed by k1) in t[0..8], of phi(R) (signed by k2) in t[8..16].
const TABLE_LEN: u32 = 8u;

fn multiply(p: PrepSlot) -> ProjSlot {
    var out: ProjSlot;
    out.code = p.code;
    if (p.code != 0u) {
        return out;
    }
    let rx = f13_from(p.rx);
    var ry = f13_from(p.ry);
    ry = f13_sel(ry, f13_neg(ry), p.neg1 != 0u);
    let flip = p.neg1 != p.neg2;
    var t: array<Proj, 16>;
    t[0] = Proj(rx, ry, F13_ONE);
    for (var i = 1u; i < opaque(TABLE_LEN); i++) {
        t[i] = proj_add_affine(t[i - 1u], rx, ry);
    }
    for (var i = 0u; i < opaque(TABLE_LEN); i++) {
        let e = t[i];
        t[TABLE_LEN + i] = Proj(f13_mul(e.x, F13_BETA), f13_sel(e.y, f13_neg(e.y), flip), e.z);
    }
    let d1 = signed_digits(p.k1);
    let d2 = signed_digits(p.k2);
    var acc = PROJ_INFINITY;
    for (var w = opaque(DIGITS); w > 0u; w--) {
        let i = w - 1u;
        if (i != DIGITS - 1u) {
            for (var k = 0u; k < opaque(4u); k++) {
                acc = proj_dbl(acc);
            }
        }
        for (var h = 0u; h < opaque(2u); h++) {
            var dv = d1[i];
            if (h == 1u) {
                dv = d2[i];
            }
            // |d| - 1 picks the entry; every entry is read, so lanes stay in step.
            let m = select(dv - 8u, 8u - dv, dv < 8u);
            var q = t[TABLE_LEN * h];
            for (var j = 1u; j < TABLE_LEN; j++) {
                q = sel_proj(q, t[TABLE_LEN * h + j], m == j + 1u);
            }
            q.y = f13_sel(q.y, f13_neg(q.y), dv < 8u);
            acc = sel_proj(proj_add(acc, q), acc, m == 0u);
        }
    }
    // Signed digits of u1 (twin: curve::g_digits): a window above 4096 becomes negative and
    // carries one into the next.
    let u1 = p.u1;
    var carry = 0u;
    for (var w = 0u; w < opaque(G_WINDOWS); w++) {
        let bit = w * G_BITS;
        let i = bit / 32u;
        let off = bit % 32u;
        var v = u1[i] >> off;
        if (off > 32u - G_BITS && i < 7u) {
            v = v | (u1[i + 1u] << (32u - off));
        }
        let raw = (v & 0x1FFFu) + carry;
        let neg = raw > G_ENTRIES;
        let m = select(raw, 8192u - raw, neg);
        carry = select(0u, 1u, neg);
        // Entry 0 is read for a zero digit, and its sum thrown away.
        let e = g_table[w * G_ENTRIES + max(m, 1u) - 1u];
        var y = f13_from(e.y);
        y = f13_sel(y, f13_neg(y), neg);
        acc = sel_proj(proj_add_affine(acc, f13_from(e.x), y), acc, m == 0u);
    }
    let z = f13_to(acc.z);
    if (is_zero(z)) {
        out.code = 4u;
        return out;
    }
    out.x = f13_to(acc.x);
    out.y = f13_to(acc.y);
    out.z = z;
    return out;
}

@compute @workgroup_size(64)
fn recover_mul(@builtin(global_invocation_id) gid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat_index(gid, nwg);
    if (idx >= params.count) {
        return;
    }
    jac[idx] = multiply(prep[idx]);
}
