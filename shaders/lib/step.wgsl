// The per-step uniform (position, rows, random number, where the sampler writes): declared here once for
// every kernel that binds it, and in TS once as stepUniform (src/kernels/kernel.ts, written by writeStep).
// Needs from the including file: nothing.

struct Step { pos0: u32, T: u32, rand: f32, writePos: u32 }
