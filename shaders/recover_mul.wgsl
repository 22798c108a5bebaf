// recover_mul.wgsl: pass 2 of recovery. Q = u1*G + k1*R + k2*phi(R): u1*G is 32 additions of
// affine entries of the G table (no doubling), and k1*R + k2*phi(R) is one Strauss-Shamir chain
// of doublings over the width-5 NAFs of the GLV halves. Code 4 when Q is at infinity.
// All arithmetic runs through the field machine (vm.wgsl) with the programs of points.wgsl.
// Twin: src/gpu/twin/recover.rs (multiply).
// import: layout field arith glv vm points

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> prep: array<PrepSlot>;
@group(0) @binding(2) var<storage, read> g_table: array<AffinePoint>;
@group(0) @binding(3) var<storage, read_write> jac: array<JacSlot>;

// Entries per window of the G table (8-bit windows, 32 of them).
const G_ENTRIES: u32 = 256u;
const G_WINDOWS: u32 = 32u;
// Registers beyond the programs' r0-r16: 2R and beta.
const R_2R: u32 = 17u;
const R_BETA: u32 = 20u;
// Program segments.
const SEG_NONE: u32 = 0u;
const SEG_BETA: u32 = 1u;
const SEG_ADD1: u32 = 2u;
const SEG_ADD2: u32 = 3u;
const SEG_DBL: u32 = 4u;
// Point operations: 1 doubling + 7 additions for the odd multiples of R, 1 reset, 3 per NAF
// digit position (doubling, two addition slots), 32 G-table additions.
const STRAUSS_START: u32 = 9u;
const G_START: u32 = STRAUSS_START + 3u * NAF_LEN;
const TOTAL_OPS: u32 = G_START + G_WINDOWS;

fn copy_operand_to_acc() {
    reg[0] = reg[3];
    reg[1] = reg[4];
    reg[2] = reg[5];
}

fn multiply(p: PrepSlot) -> JacSlot {
    var out: JacSlot;
    out.code = p.code;
    if (p.code != 0u) {
        return out;
    }
    reg[R_ZERO] = ZERO;
    reg[R_BETA] = BETA;
    var ry = p.ry;
    if (p.neg1 != 0u) {
        ry = fe_neg(ry);
    }
    let flip = p.neg1 != p.neg2;
    // Odd multiples R, 3R, ..., 15R (signed by k1); phi of them is applied on use (x * beta).
    var tx: array<Limbs, 8>;
    var ty: array<Limbs, 8>;
    var tz: array<Limbs, 8>;
    tx[0] = p.rx;
    ty[0] = ry;
    tz[0] = ONE;
    let naf1 = wnaf(p.k1);
    let naf2 = wnaf(p.k2);
    var acc_inf = false;
    // One point operation per iteration, the same operation index in every invocation, so that
    // invocations sharing SIMD lanes stay in step; each runs its own segments (or none).
    for (var cur = 0u; cur < TOTAL_OPS; cur++) {
        var seg = SEG_NONE;
        if (cur == 0u) {
            reg[0] = tx[0];
            reg[1] = ty[0];
            reg[2] = ONE;
            seg = SEG_DBL;
        } else if (cur < 8u) {
            if (cur == 1u) {
                reg[0] = tx[0];
                reg[1] = ty[0];
                reg[2] = ONE;
            }
            reg[3] = reg[R_2R];
            reg[4] = reg[R_2R + 1u];
            reg[5] = reg[R_2R + 2u];
            seg = SEG_ADD1;
        } else if (cur == 8u) {
            acc_inf = true;
        } else if (cur < G_START) {
            let j = cur - STRAUSS_START;
            let idx = NAF_LEN - 1u - j / 3u;
            let sub = j % 3u;
            if (sub == 0u) {
                if (!acc_inf) {
                    seg = SEG_DBL;
                }
            } else {
                // Slot 1 takes the first nonzero digit of the position (k1's, else k2's), slot 2
                // k2's when both are nonzero: the same additions in the same order as digit by
                // digit, but invocations sharing SIMD lanes rarely need slot 2 (p = 1/36 each).
                let d1 = naf1[idx];
                let d2 = naf2[idx];
                var d = 0;
                var half = 1u;
                if (sub == 1u) {
                    if (d1 != 0) {
                        d = d1;
                    } else {
                        d = d2;
                        half = 2u;
                    }
                } else if (d1 != 0) {
                    d = d2;
                    half = 2u;
                }
                if (d != 0) {
                    let slot = u32(abs(d) / 2);
                    reg[3] = tx[slot];
                    reg[4] = ty[slot];
                    reg[5] = tz[slot];
                    var negate = d < 0;
                    if (half == 2u && flip) {
                        negate = !negate;
                    }
                    if (negate) {
                        reg[4] = fe_neg(reg[4]);
                    }
                    if (half == 2u) {
                        seg = SEG_BETA;
                    } else if (acc_inf) {
                        copy_operand_to_acc();
                        acc_inf = false;
                    } else {
                        seg = SEG_ADD1;
                    }
                }
            }
        } else {
            let w = cur - G_START;
            let bit = w * 8u;
            let b = (p.u1[bit / 32u] >> (bit % 32u)) & 0xFFu;
            if (b != 0u) {
                let e = g_table[w * G_ENTRIES + b];
                reg[3] = e.x;
                reg[4] = e.y;
                reg[5] = ONE;
                if (acc_inf) {
                    copy_operand_to_acc();
                    acc_inf = false;
                } else {
                    seg = SEG_ADD1;
                }
            }
        }
        // Run the operation's segments: [BETA] ADD1 then ADD2, or DBL (also for P + P).
        loop {
            if (seg == SEG_NONE) {
                break;
            }
            var len = 1u;
            if (seg == SEG_ADD1) {
                len = ADD1_LEN;
            } else if (seg == SEG_ADD2) {
                len = ADD2_LEN;
            } else if (seg == SEG_DBL) {
                len = DBL_LEN;
            }
            for (var pc = 0u; pc < len; pc++) {
                var i = ins(OP_MUL, 3u, 3u, R_BETA);
                if (seg == SEG_ADD1) {
                    i = ADD1_PROG[pc];
                } else if (seg == SEG_ADD2) {
                    i = ADD2_PROG[pc];
                } else if (seg == SEG_DBL) {
                    i = DBL_PROG[pc];
                }
                vm_exec(i);
            }
            if (seg == SEG_BETA) {
                if (acc_inf) {
                    copy_operand_to_acc();
                    acc_inf = false;
                    seg = SEG_NONE;
                } else {
                    seg = SEG_ADD1;
                }
            } else if (seg == SEG_ADD1) {
                if (is_zero(reg[12])) {
                    if (is_zero(reg[13])) {
                        seg = SEG_DBL;
                    } else {
                        acc_inf = true;
                        seg = SEG_NONE;
                    }
                } else {
                    seg = SEG_ADD2;
                }
            } else {
                seg = SEG_NONE;
            }
        }
        if (cur == 0u) {
            reg[R_2R] = reg[0];
            reg[R_2R + 1u] = reg[1];
            reg[R_2R + 2u] = reg[2];
        } else if (cur < 8u) {
            tx[cur] = reg[0];
            ty[cur] = reg[1];
            tz[cur] = reg[2];
        }
    }
    if (acc_inf) {
        out.code = 4u;
        return out;
    }
    out.x = reg[0];
    out.y = reg[1];
    out.z = reg[2];
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
