// recover_prepare.wgsl: pass 1 of recovery, PREP_CHUNK items per invocation. Per item: range
// checks (codes 1-3) and R from r and the recovery id's parity (code 4 when r is not an
// x-coordinate), the square root by an addition chain over the radix-2^13 field with the same
// steps in every lane (a failed item takes r = 1 through them). Then, in the field machine, one
// batch inversion of the chunk's r mod n, u1 = -z/r and u2 = s/r mod n, and the GLV split of u2.
// Twin: src/gpu/twin/recover.rs (prepare_chunk).
// import: layout field arith glv vm f13

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

// x^((p+1)/4), the square root for p = 3 mod 4, by an addition chain: per step, square the
// accumulator (bits 0-7) times, multiply by slot (bits 8-15), store in slot (bits 16-23). Slot 0
// is x, slot 7 is 1; the chain builds x^(2^k - 1) for k = 2, 3, 6, 9, 11, 22, 44, 88, 176, 220,
// 223, then the exponent's low bits: 253 squarings and 14 multiplications, where the 4-bit
// window power took 256 and 64 (twin: f13::SQRT_CHAIN).
const SQRT_STEPS: u32 = 14u;
const SQRT_CHAIN: array<u32, 14> = array<u32, 14>(
    0x010001u, 0x020001u, 0x030203u, 0x030203u, 0x030102u, 0x04030Bu, 0x050416u,
    0x06052Cu, 0x060658u, 0x06052Cu, 0x060203u, 0x060417u, 0x060106u, 0x060702u);

fn f13_sqrt(x: F13) -> F13 {
    var slot: array<F13, 8>;
    slot[0] = x;
    slot[7] = F13_ONE;
    var chain = SQRT_CHAIN;
    var acc = x;
    for (var i = 0u; i < opaque(SQRT_STEPS); i++) {
        let st = chain[i];
        for (var j = 0u; j < (st & 0xFFu); j++) {
            acc = f13_sqr(acc);
        }
        acc = f13_mul(acc, slot[(st >> 8u) & 0xFFu]);
        slot[st >> 16u] = acc;
    }
    return acc;
}

// Range checks and R for one item (twin: recover::prepare_front); leaves r, or 1 for a failed
// item, in register `item` for the batch inversion.
fn prepare_front(item: u32, input: RecoverInput) -> PrepSlot {
    let r = limbs_from_raw(input.r);
    let s = limbs_from_raw(input.s);
    var code = 0u;
    if (input.recid > 1u) {
        code = 1u;
    } else if (is_zero(r) || gte(r, N)) {
        code = 2u;
    } else if (is_zero(s) || gte(s, N)) {
        code = 3u;
    }
    // y^2 = r^3 + 7 (r < n < p), the same steps in every lane.
    let x = select_limbs(ONE, r, code == 0u);
    let xf = f13_from(x);
    let rhs = f13_add(f13_mul(f13_sqr(xf), xf), F13_SEVEN);
    let yf = f13_sqrt(rhs);
    let is_root = limbs_eq(f13_to(f13_sqr(yf)), f13_to(rhs));
    var y = f13_to(yf);
    y = select_limbs(y, fe_neg(y), (y[0] & 1u) != input.recid);
    if (code == 0u && !is_root) {
        code = 4u;
    }
    var out = empty_prep(code);
    if (code == 0u) {
        out.rx = r;
        out.ry = y;
        reg[item] = r;
    } else {
        reg[item] = ONE;
    }
    return out;
}

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
    reg[R_G1] = G1;
    reg[R_G2] = G2;
    reg[R_MB1] = MINUS_B1;
    reg[R_MB2] = MINUS_B2;
    reg[R_LAMBDA] = LAMBDA;
    for (var item = 0u; item < n; item++) {
        prep[base + item] = prepare_front(item, inputs[base + item]);
    }
    // Stages: 1 prefix products of r; 2 their inverse mod n; 3 per item, backwards: 1/r, u1, u2
    // and the GLV split.
    var stage = 1u;
    var k = 0u;
    loop {
        var i = OP_NOP;
        if (stage == 1u) {
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
