// The neuron probe of the gemv kernels' EPILOGUE 3, spliced in by `// #include neuron_probe` after a
// shader has declared `p.bitsWord`, `th` (the thresholds uniform) and `bits` (array<atomic<u32>>).

struct Thresholds { head: f32, neuron: f32, edge: f32, _p: f32 }

// MLP neuron `row` has post-GELU activation `a`: set its bit when it fires (a >= τ_neuron).
fn markNeuron(row: u32, a: f32) {
  if (a >= th.neuron) { atomicOr(&bits[p.bitsWord + row / 32u], 1u << (row % 32u)); }
}
