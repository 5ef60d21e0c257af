// The project's one small seeded generator (mulberry32): the sampler's random stream and test data.
// Not for anything that needs statistical quality beyond "uniform enough and reproducible".

/** Uniform numbers in [0, 1) from a 32-bit seed, the same sequence on every JS engine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
