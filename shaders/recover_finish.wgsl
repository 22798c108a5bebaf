// recover_finish.wgsl: pass 3 of recovery. Each invocation takes FINISH_CHUNK consecutive items,
// inverts all their Z with one field inversion (Montgomery's trick), converts Q from projective
// coordinates to affine (x = X/Z, y = Y/Z) and writes keccak256(x || y)[12..32] as the address.
// Arithmetic runs through the field machine.
// Twin: src/gpu/twin/recover.rs (finish).
// import: layout field arith keccak vm

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> jac: array<ProjSlot>;
@group(0) @binding(2) var<storage, read_write> outs: array<OutSlot>;

// Items per invocation: one inversion (~330 multiplications) serves 8 points for 3 each.
const FINISH_CHUNK: u32 = 8u;
// Registers: Z of item i in r(i), prefix products in r(8 + i), then these.
const R_PREFIX: u32 = 8u;
const R_INV: u32 = 17u;
const R_ZI: u32 = 18u;
const R_X: u32 = 21u;
const R_Y: u32 = 22u;
const R_AX: u32 = 23u;
const R_AY: u32 = 24u;
const R_ONE: u32 = 25u;
// Per item in the back pass: zi, inv update, x, y, then write the address.
const BACK_STEPS: u32 = 5u;

fn address_words(x: Limbs, y: Limbs) -> array<u32, 5> {
    var s: array<u32, 50>;
    for (var k = 0u; k < 8u; k++) {
        s[k] = bswap(x[7u - k]);
        s[8u + k] = bswap(y[7u - k]);
    }
    s[16] ^= 1u;
    s[33] ^= 0x80000000u;
    keccak_f(&s);
    return array<u32, 5>(s[3], s[4], s[5], s[6], s[7]);
}

@compute @workgroup_size(64)
fn recover_finish(@builtin(global_invocation_id) gid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
    let base = flat_index(gid, nwg) * FINISH_CHUNK;
    if (base >= params.count) {
        return;
    }
    let n = min(FINISH_CHUNK, params.count - base);
    reg[R_ONE] = ONE;
    reg[R_ZERO] = ZERO;
    for (var i = 0u; i < n; i++) {
        let j = jac[base + i];
        if (j.code == 0u) {
            reg[i] = j.z;
        } else {
            reg[i] = ONE;
        }
    }
    // Stages: 0 prefix products; 1 inversion of the last; 2 back pass per item.
    var stage = 0u;
    var k = 0u;
    loop {
        var i = OP_NOP;
        if (stage == 0u) {
            if (k < n) {
                var prev = R_ONE;
                if (k > 0u) {
                    prev = R_PREFIX + k - 1u;
                }
                i = ins(OP_MUL, R_PREFIX + k, prev, k);
            } else {
                pow_setup(R_INV, reg[R_PREFIX + n - 1u]);
                stage = 1u;
                k = 0u;
                continue;
            }
        } else if (stage == 1u) {
            if (k < POW_STEPS) {
                i = pow_ins(k, R_INV, P_MINUS_2, OP_MUL, OP_SQR);
            } else {
                stage = 2u;
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
                let j = jac[base + item];
                reg[R_X] = j.x;
                reg[R_Y] = j.y;
                var before = R_ONE;
                if (item > 0u) {
                    before = R_PREFIX + item - 1u;
                }
                i = ins(OP_MUL, R_ZI, R_INV, before);
            } else if (sub == 1u) {
                i = ins(OP_MUL, R_INV, R_INV, item);
            } else if (sub == 2u) {
                i = ins(OP_MUL, R_AX, R_X, R_ZI);
            } else if (sub == 3u) {
                i = ins(OP_MUL, R_AY, R_Y, R_ZI);
            } else {
                let code = jac[base + item].code;
                var out: OutSlot;
                out.code = code;
                if (code == 0u) {
                    out.addr = address_words(reg[R_AX], reg[R_AY]);
                }
                outs[base + item] = out;
                k++;
                continue;
            }
        }
        k++;
        vm_exec(i);
    }
}
