// recover_prepare.wgsl: pass 1 of recovery. Range checks (codes 1-3), R from r and the recovery
// id's parity (code 4 when r is not an x-coordinate), u1 = -z/r and u2 = s/r mod n, and the GLV
// split of u2. Twin: src/gpu/twin/recover.rs (prepare).
// import: layout field arith glv vm

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> inputs: array<RecoverInput>;
@group(0) @binding(2) var<storage, read_write> prep: array<PrepSlot>;

fn empty_prep(code: u32) -> PrepSlot {
    var p: PrepSlot;
    p.code = code;
    return p;
}

// Field-machine registers of this kernel.
const R_R: u32 = 0u;      // r (= x of R)
const R_RHS: u32 = 1u;    // r^3 + 7
const R_Y: u32 = 2u;      // y of R
const R_CHK: u32 = 3u;    // y^2
const R_SEVEN: u32 = 4u;
const R_S: u32 = 5u;
const R_NZ: u32 = 6u;     // -z mod n
const R_RINV: u32 = 7u;   // 1/r mod n
const R_U1: u32 = 8u;
const R_U2: u32 = 9u;
const R_C1: u32 = 10u;
const R_C2: u32 = 11u;
const R_G1: u32 = 12u;
const R_G2: u32 = 13u;
const R_MB1: u32 = 14u;
const R_MB2: u32 = 15u;
const R_LAMBDA: u32 = 17u;
const R_T1: u32 = 18u;
const R_T2: u32 = 19u;
const R_K2: u32 = 20u;
const R_T3: u32 = 21u;
const R_K1: u32 = 22u;

fn prepare(input: RecoverInput) -> PrepSlot {
    if (input.recid > 1u) {
        return empty_prep(1u);
    }
    let r = limbs_from_raw(input.r);
    let s = limbs_from_raw(input.s);
    if (is_zero(r) || gte(r, N)) {
        return empty_prep(2u);
    }
    if (is_zero(s) || gte(s, N)) {
        return empty_prep(3u);
    }
    reg[R_ZERO] = ZERO;
    reg[R_R] = r;
    reg[R_S] = s;
    reg[R_SEVEN] = Limbs(7u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
    reg[R_G1] = G1;
    reg[R_G2] = G2;
    reg[R_MB1] = MINUS_B1;
    reg[R_MB2] = MINUS_B2;
    reg[R_LAMBDA] = LAMBDA;
    // Stages: 0 r^3 + 7; 1 its square root; 2 check it; 3 1/r mod n; 4 u1, u2 and the split.
    var stage = 0u;
    var k = 0u;
    loop {
        var i = OP_NOP;
        if (stage == 0u) {
            if (k == 0u) {
                i = ins(OP_SQR, R_RHS, R_R, R_R);
            } else if (k == 1u) {
                i = ins(OP_MUL, R_RHS, R_RHS, R_R);
            } else if (k == 2u) {
                i = ins(OP_ADD, R_RHS, R_RHS, R_SEVEN);
            } else {
                pow_setup(R_Y, reg[R_RHS]);
                stage = 1u;
                k = 0u;
                continue;
            }
        } else if (stage == 1u) {
            if (k < POW_STEPS) {
                i = pow_ins(k, R_Y, P_SQRT_EXP, OP_MUL, OP_SQR);
            } else {
                stage = 2u;
                k = 0u;
                continue;
            }
        } else if (stage == 2u) {
            if (k == 0u) {
                i = ins(OP_SQR, R_CHK, R_Y, R_Y);
            } else {
                if (!limbs_eq(reg[R_CHK], reg[R_RHS])) {
                    return empty_prep(4u);
                }
                if ((reg[R_Y][0] & 1u) != input.recid) {
                    reg[R_Y] = fe_neg(reg[R_Y]);
                }
                var z = limbs_from_raw(input.hash);
                if (gte(z, N)) {
                    z = sub_raw(z, N);
                }
                reg[R_NZ] = neg_mod(z, N);
                pow_setup(R_RINV, r);
                stage = 3u;
                k = 0u;
                continue;
            }
        } else if (stage == 3u) {
            if (k < POW_STEPS) {
                i = pow_ins(k, R_RINV, N_MINUS_2, OP_MULN, OP_SQRN);
            } else {
                stage = 4u;
                k = 0u;
                continue;
            }
        } else {
            switch k {
                case 0u: { i = ins(OP_MULN, R_U1, R_NZ, R_RINV); }
                case 1u: { i = ins(OP_MULN, R_U2, R_S, R_RINV); }
                case 2u: { i = ins(OP_WIDE, R_C1, R_U2, R_G1); }
                case 3u: { i = ins(OP_WIDE, R_C2, R_U2, R_G2); }
                case 4u: { i = ins(OP_MULN, R_T1, R_C1, R_MB1); }
                case 5u: { i = ins(OP_MULN, R_T2, R_C2, R_MB2); }
                case 6u: { i = ins(OP_ADDN, R_K2, R_T1, R_T2); }
                case 7u: { i = ins(OP_MULN, R_T3, R_K2, R_LAMBDA); }
                case 8u: { i = ins(OP_SUBN, R_K1, R_U2, R_T3); }
                default: { i = HALT; }
            }
            if (i == HALT) {
                break;
            }
        }
        k++;
        vm_exec(i);
    }
    let h1 = signed_half(reg[R_K1]);
    let h2 = signed_half(reg[R_K2]);
    var out: PrepSlot;
    out.code = 0u;
    out.neg1 = h1.neg;
    out.neg2 = h2.neg;
    out.u1 = reg[R_U1];
    out.k1 = h1.mag;
    out.k2 = h2.mag;
    out.rx = r;
    out.ry = reg[R_Y];
    return out;
}

@compute @workgroup_size(64)
fn recover_prepare(@builtin(global_invocation_id) gid: vec3<u32>,
                   @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat_index(gid, nwg);
    if (idx >= params.count) {
        return;
    }
    prep[idx] = prepare(inputs[idx]);
}
