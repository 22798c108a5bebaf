// shared/vm.wgsl: a tiny field machine. The driver inlines every function call, so a kernel that
// calls a 256-bit multiplication from many places becomes enormous and compiles for minutes on
// lavapipe. Instead each kernel is one loop that asks a control function for the next
// instruction and runs it through vm_exec, the single place that multiplies, adds or subtracts.
// Instruction word: op | a << 8 | b << 16 | d << 24, meaning reg[d] = reg[a] op reg[b].
// Twin: the same operations are plain calls in src/gpu/twin (field.rs, curve.rs, recover.rs).

const NREG: u32 = 56u;
var<private> reg: array<Limbs, NREG>;

const OP_MUL: u32 = 0u;   // mod p
const OP_ADD: u32 = 1u;   // mod p
const OP_SUB: u32 = 2u;   // mod p
const OP_MULN: u32 = 3u;  // mod n
const OP_ADDN: u32 = 4u;  // mod n
const OP_SUBN: u32 = 5u;  // mod n
const OP_WIDE: u32 = 6u;  // round(a * b / 2^384), no reduction (GLV split)
const OP_SQR: u32 = 7u;   // a * a mod p (b ignored): 36 word products instead of 64
const OP_SQRN: u32 = 8u;  // a * a mod n
const OP_NOP: u32 = 0xFEu;
const HALT: u32 = 0xFFFFFFFFu;

// Register 16 always holds zero: "ADD d, a, r16" is a copy.
const R_ZERO: u32 = 16u;

fn ins(op: u32, d: u32, a: u32, b: u32) -> u32 {
    return op | (a << 8u) | (b << 16u) | (d << 24u);
}

fn vm_exec(i: u32) {
    let op = i & 0xFFu;
    if (op == OP_NOP) {
        return;
    }
    let x = reg[(i >> 8u) & 0xFFu];
    let y = reg[(i >> 16u) & 0xFFu];
    var r: Limbs;
    if (op == OP_MUL || op == OP_MULN || op == OP_WIDE || op >= OP_SQR) {
        var t: array<u32, 16>;
        if (op >= OP_SQR) {
            t = sqr_wide(x);
        } else {
            t = mul_wide(x, y);
        }
        if (op == OP_MUL || op == OP_SQR) {
            r = reduce_p(t);
        } else if (op == OP_MULN || op == OP_SQRN) {
            r = reduce_n(t);
        } else {
            // round(t / 2^384): bits 384..511 plus bit 383.
            let q = Limbs(t[12], t[13], t[14], t[15], 0u, 0u, 0u, 0u);
            r = add_carry(q, Limbs(t[11] >> 31u, 0u, 0u, 0u, 0u, 0u, 0u, 0u)).v;
        }
    } else {
        var m = P;
        if (op >= OP_MULN) {
            m = N;
        }
        if (op == OP_ADD || op == OP_ADDN) {
            r = add_mod(x, y, m);
        } else {
            r = sub_mod(x, y, m);
        }
    }
    reg[i >> 24u] = r;
}

// Exponentiation as a stream of instructions (twin: field::pow_mod, 4-bit fixed window).
// Before step 0: reg[T0] = 1, reg[T0 + 1] = base, reg[dst] = 1. Steps 0..13 fill the table
// reg[T0 + i] = base^i; then for each of the 64 nibbles from the top, 4 squarings and one
// multiplication by the table entry (a NOP for a zero nibble).
const POW_T0: u32 = 32u;
const POW_STEPS: u32 = 334u;

fn pow_ins(step: u32, dst: u32, e: Limbs, mul: u32, sqr: u32) -> u32 {
    if (step < 14u) {
        return ins(mul, POW_T0 + step + 2u, POW_T0 + step + 1u, POW_T0 + 1u);
    }
    let j = step - 14u;
    let w = j / 5u;
    let sub = j % 5u;
    if (sub < 4u) {
        return ins(sqr, dst, dst, dst);
    }
    let i = 63u - w;
    let nib = (e[i / 8u] >> ((i % 8u) * 4u)) & 0xFu;
    if (nib == 0u) {
        return OP_NOP;
    }
    return ins(mul, dst, dst, POW_T0 + nib);
}

fn pow_setup(dst: u32, base: Limbs) {
    reg[POW_T0] = ONE;
    reg[POW_T0 + 1u] = base;
    reg[dst] = ONE;
}
