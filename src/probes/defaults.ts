// The default firing thresholds, in a module of their own so the engine and the page can import them
// without pulling in the CPU reference that measured them (./thresholds has the derivation).

import type { Thresholds } from './metrics';

/**
 * Measured on weights/dense (the embedded 8 × 8 × 256 model trained 400 steps): suggestThresholds of
 * collectThresholdStats(dense, MEASURE_PROMPTS) with THRESHOLD_TARGETS; docs/instrumentation.md has the
 * distributions and the per-layer fractions dense and sparse fire at.
 */
export const DEFAULT_THRESHOLDS: Thresholds = { head: 0.0142, neuron: 0.303, edge: 0.138 };
