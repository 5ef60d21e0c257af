// The values of the linear kernels' EPILOGUE override, named: declared here once and in TS once (EPILOGUES in
// src/kernels/gelu.ts); src/kernels/contract.test.ts checks that the two agree.
// Needs from the including file: nothing.

const EPILOGUE_NONE = 0u;               // y = acc + bias
const EPILOGUE_GELU = 1u;               // y = gelu(acc + bias)
const EPILOGUE_RESIDUAL = 2u;           // y += acc + bias
const EPILOGUE_GELU_NEURON_PROBE = 3u;  // gelu, and the neuron's bit set when it fires (gemv kernels only)
