// recover_prepare.wgsl: pass 1 of recovery, PREP_CHUNK items per invocation. Range checks (codes
// 1-3), R from r and the recovery id's parity (code 4 when r is not an x-coordinate), then one
// batch inversion of the chunk's r mod n, u1 = -z/r and u2 = s/r mod n, and the GLV split of u2.
// Twin: src/gpu/twin/recover.rs (prepare_chunk).
// import: layout field arith glv vm

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> inputs: array<RecoverInput>;
@group(0) @binding(2) var<storage, read_write> prep: array<PrepSlot>;

fn empty_prep(code: u32) -> PrepSlot {
    var p: PrepSlot;
    p.code = code;
    return p;
}

// Items per invocation: one inversion mod n (~330 multiplications) serves all their 1/r, at 3
// multiplications each (Montgomery's trick), as recover_finish does for Z.
const PREP_CHUNK: u32 = 8u;
// Field-machine registers: r of item i in r(i) (1 for an item that failed), prefix products in
// r(8 + i), then these; the power table is r32-r47.
const R_PREFIX: u32 = 8u;
const R_RHS: u32 = 17u;    // r^3 + 7
const R_Y: u32 = 18u;      // y of R
const R_CHK: u32 = 19u;    // y^2
const R_SEVEN: u32 = 20u;
const R_INV: u32 = 21u;    // running inverse of the prefix product, mod n
const R_RINV: u32 = 22u;   // 1/r of the current item
const R_S: u32 = 23u;
const R_NZ: u32 = 24u;     // -z mod n
const R_U1: u32 = 25u;
const R_U2: u32 = 26u;
const R_C1: u32 = 27u;
const R_C2: u32 = 28u;
const R_T1: u32 = 29u;
const R_T2: u32 = 30u;
const R_K2: u32 = 31u;
const R_G1: u32 = 48u;
const R_G2: u32 = 49u;
const R_MB1: u32 = 50u;
const R_MB2: u32 = 51u;
const R_LAMBDA: u32 = 52u;
const R_ONE: u32 = 53u;
const R_K1: u32 = 54u;
const R_T3: u32 = 55u;
// Steps per item of the back pass: 1/r, running inverse, load (control), 9 scalar operations,
// write (control).
const BACK_STEPS: u32 = 13u;
// Steps per item of the front pass: load and r^2, r^3, r^3 + 7, the square root, y^2, check
// (control).
const FRONT_STEPS: u32 = 5u + POW_STEPS;

@compute @workgroup_size(64)
fn recover_prepare(@builtin(global_invocation_id) gid: vec3<u32>,
                   @builtin(num_workgroups) nwg: vec3<u32>) {
    let base = flat_index(gid, nwg) * PREP_CHUNK;
    if (base >= params.count) {
        return;
    }
    let n = min(PREP_CHUNK, params.count - base);
    reg[R_ZERO] = ZERO;
    reg[R_ONE] = ONE;
    reg[R_SEVEN] = Limbs(7u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
    reg[R_G1] = G1;
    reg[R_G2] = G2;
    reg[R_MB1] = MINUS_B1;
    reg[R_MB2] = MINUS_B2;
    reg[R_LAMBDA] = LAMBDA;
    // Stages: 0 per item: checks, R (square root); 1 prefix products of r; 2 their inverse mod
    // n; 3 per item, backwards: 1/r, u1, u2 and the GLV split.
    var stage = 0u;
    var k = 0u;
    loop {
        var i = OP_NOP;
        if (stage == 0u) {
            if (k >= n * FRONT_STEPS) {
                stage = 1u;
                k = 0u;
                continue;
            }
            let item = k / FRONT_STEPS;
            let sub = k % FRONT_STEPS;
            if (sub == 0u) {
                let input = inputs[base + item];
                // Range checks; a failing item keeps r = 1 in the batch inversion.
                reg[item] = ONE;
                var code = 0u;
                let r = limbs_from_raw(input.r);
                let s = limbs_from_raw(input.s);
                if (input.recid > 1u) {
                    code = 1u;
                } else if (is_zero(r) || gte(r, N)) {
                    code = 2u;
                } else if (is_zero(s) || gte(s, N)) {
                    code = 3u;
                }
                if (code != 0u) {
                    prep[base + item] = empty_prep(code);
                    k = (item + 1u) * FRONT_STEPS;
                    continue;
                }
                reg[item] = r;
                i = ins(OP_SQR, R_RHS, item, item);
            } else if (sub == 1u) {
                i = ins(OP_MUL, R_RHS, R_RHS, item);
            } else if (sub == 2u) {
                i = ins(OP_ADD, R_RHS, R_RHS, R_SEVEN);
            } else if (sub == 3u) {
                pow_setup(R_Y, reg[R_RHS]);
                i = pow_ins(0u, R_Y, P_SQRT_EXP, OP_MUL, OP_SQR);
            } else if (sub < 3u + POW_STEPS) {
                i = pow_ins(sub - 3u, R_Y, P_SQRT_EXP, OP_MUL, OP_SQR);
            } else if (sub == 3u + POW_STEPS) {
                i = ins(OP_SQR, R_CHK, R_Y, R_Y);
            } else {
                var out = empty_prep(0u);
                if (!limbs_eq(reg[R_CHK], reg[R_RHS])) {
                    out.code = 4u;
                    reg[item] = ONE;
                } else {
                    var y = reg[R_Y];
                    if ((y[0] & 1u) != inputs[base + item].recid) {
                        y = fe_neg(y);
                    }
                    out.rx = reg[item];
                    out.ry = y;
                }
                prep[base + item] = out;
                k++;
                continue;
            }
        } else if (stage == 1u) {
            if (k < n) {
                var prev = R_ONE;
                if (k > 0u) {
                    prev = R_PREFIX + k - 1u;
                }
                i = ins(OP_MULN, R_PREFIX + k, prev, k);
            } else {
                pow_setup(R_INV, reg[R_PREFIX + n - 1u]);
                stage = 2u;
                k = 0u;
                continue;
            }
        } else if (stage == 2u) {
            if (k < POW_STEPS) {
                i = pow_ins(k, R_INV, N_MINUS_2, OP_MULN, OP_SQRN);
            } else {
                stage = 3u;
                k = 0u;
                continue;
            }
        } else {
            if (k >= n * BACK_STEPS) {
                break;
            }
            let item = n - 1u - k / BACK_STEPS;
            let sub = k % BACK_STEPS;
            if (sub == 0u) {
                var before = R_ONE;
                if (item > 0u) {
                    before = R_PREFIX + item - 1u;
                }
                i = ins(OP_MULN, R_RINV, R_INV, before);
            } else if (sub == 1u) {
                i = ins(OP_MULN, R_INV, R_INV, item);
            } else if (sub == 2u) {
                if (prep[base + item].code != 0u) {
                    k = k + BACK_STEPS - 2u;
                    continue;
                }
                let input = inputs[base + item];
                var z = limbs_from_raw(input.hash);
                if (gte(z, N)) {
                    z = sub_raw(z, N);
                }
                reg[R_NZ] = neg_mod(z, N);
                reg[R_S] = limbs_from_raw(input.s);
                k++;
                continue;
            } else if (sub == 12u) {
                let h1 = signed_half(reg[R_K1]);
                let h2 = signed_half(reg[R_K2]);
                prep[base + item].neg1 = h1.neg;
                prep[base + item].neg2 = h2.neg;
                prep[base + item].u1 = reg[R_U1];
                prep[base + item].k1 = h1.mag;
                prep[base + item].k2 = h2.mag;
                k++;
                continue;
            } else {
                switch sub {
                    case 3u: { i = ins(OP_MULN, R_U1, R_NZ, R_RINV); }
                    case 4u: { i = ins(OP_MULN, R_U2, R_S, R_RINV); }
                    case 5u: { i = ins(OP_WIDE, R_C1, R_U2, R_G1); }
                    case 6u: { i = ins(OP_WIDE, R_C2, R_U2, R_G2); }
                    case 7u: { i = ins(OP_MULN, R_T1, R_C1, R_MB1); }
                    case 8u: { i = ins(OP_MULN, R_T2, R_C2, R_MB2); }
                    case 9u: { i = ins(OP_ADDN, R_K2, R_T1, R_T2); }
                    case 10u: { i = ins(OP_MULN, R_T3, R_K2, R_LAMBDA); }
                    default: { i = ins(OP_SUBN, R_K1, R_U2, R_T3); }
                }
            }
        }
        k++;
        vm_exec(i);
    }
}
