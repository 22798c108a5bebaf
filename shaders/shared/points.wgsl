// shared/points.wgsl: Jacobian doubling and addition on y^2 = x^3 + 7 as field-machine programs
// (see vm.wgsl), the same formulas in the same order as src/gpu/twin/curve.rs (dbl, add,
// finish_add). Generated from a table of (op, dst, a, b); register 16 holds zero (copies).
// Registers: accumulator X1 Y1 Z1 = r0 r1 r2, operand X2 Y2 Z2 = r3 r4 r5, temporaries r6-r15.
// ADD1 leaves H in r12 and R in r13 for the special cases (P = Q, P = -Q); ADD2 finishes.

const DBL_LEN: u32 = 23u;
const DBL_PROG: array<u32, 23> = array<u32, 23>(
    0x06000000u, // r6 = r0 * r0: A = X1^2
    0x07010100u, // r7 = r1 * r1: B = Y1^2
    0x08070700u, // r8 = r7 * r7: C = B^2
    0x09070001u, // r9 = r0 + r7: X1 + B
    0x09090900u, // r9 = r9 * r9: (X1 + B)^2
    0x09060902u, // r9 = r9 - r6: - A
    0x09080902u, // r9 = r9 - r8: - C
    0x09090901u, // r9 = r9 + r9: D = 2((X1 + B)^2 - A - C)
    0x0A060601u, // r10 = r6 + r6: 2A
    0x0A060A01u, // r10 = r10 + r6: E = 3A
    0x0B0A0A00u, // r11 = r10 * r10: F = E^2
    0x0C090901u, // r12 = r9 + r9: 2D
    0x0D0C0B02u, // r13 = r11 - r12: X3 = F - 2D
    0x0C080801u, // r12 = r8 + r8: 2C
    0x0C0C0C01u, // r12 = r12 + r12: 4C
    0x0C0C0C01u, // r12 = r12 + r12: 8C
    0x0E0D0902u, // r14 = r9 - r13: D - X3
    0x0E0E0A00u, // r14 = r10 * r14: E(D - X3)
    0x0E0C0E02u, // r14 = r14 - r12: Y3 = E(D - X3) - 8C
    0x0F020100u, // r15 = r1 * r2: Y1 Z1
    0x020F0F01u, // r2 = r15 + r15: Z3 = 2 Y1 Z1
    0x00100D01u, // r0 = r13 + r16: X1 = X3 (+ 0)
    0x01100E01u // r1 = r14 + r16: Y1 = Y3 (+ 0)
);

const ADD1_LEN: u32 = 10u;
const ADD1_PROG: array<u32, 10> = array<u32, 10>(
    0x06020200u, // r6 = r2 * r2: Z1Z1
    0x07050500u, // r7 = r5 * r5: Z2Z2
    0x08070000u, // r8 = r0 * r7: U1 = X1 Z2Z2
    0x09060300u, // r9 = r3 * r6: U2 = X2 Z1Z1
    0x0A070500u, // r10 = r5 * r7: Z2^3
    0x0A0A0100u, // r10 = r1 * r10: S1 = Y1 Z2^3
    0x0B060200u, // r11 = r2 * r6: Z1^3
    0x0B0B0400u, // r11 = r4 * r11: S2 = Y2 Z1^3
    0x0C080902u, // r12 = r9 - r8: H = U2 - U1
    0x0D0A0B02u // r13 = r11 - r10: R = S2 - S1
);

const ADD2_LEN: u32 = 15u;
const ADD2_PROG: array<u32, 15> = array<u32, 15>(
    0x0E0C0C00u, // r14 = r12 * r12: H^2
    0x0F0E0C00u, // r15 = r12 * r14: H^3
    0x090E0800u, // r9 = r8 * r14: V = U1 H^2
    0x060D0D00u, // r6 = r13 * r13: R^2
    0x060F0602u, // r6 = r6 - r15: R^2 - H^3
    0x07090901u, // r7 = r9 + r9: 2V
    0x06070602u, // r6 = r6 - r7: X3 = R^2 - H^3 - 2V
    0x07060902u, // r7 = r9 - r6: V - X3
    0x07070D00u, // r7 = r13 * r7: R(V - X3)
    0x0B0F0A00u, // r11 = r10 * r15: S1 H^3
    0x070B0702u, // r7 = r7 - r11: Y3 = R(V - X3) - S1 H^3
    0x0B050200u, // r11 = r2 * r5: Z1 Z2
    0x020C0B00u, // r2 = r11 * r12: Z3 = Z1 Z2 H
    0x00100601u, // r0 = r6 + r16: X1 = X3 (+ 0)
    0x01100701u // r1 = r7 + r16: Y1 = Y3 (+ 0)
);
