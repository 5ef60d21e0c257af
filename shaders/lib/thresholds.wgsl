// The instrumentation's firing thresholds uniform (τ_head, τ_neuron, τ_edge): declared here once for the
// kernels that bind it (gemv, bsr_gemv, probe), and in TS once as thresholdsUniform (src/kernels/kernel.ts).
// Needs from the including file: nothing.

struct Thresholds { head: f32, neuron: f32, edge: f32, _pad0: f32 }
