// Seeded random numbers for the benchmark (a 32-bit xorshift, as reference/autoscaling.md §5.10 asks): the same seed
// gives byte-identical runs. Never use Math.random() in the benchmark.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

/** xorshift32 (Marsaglia 2003), seeded through splitmix32 so that nearby seeds give unrelated streams. */
export function buildRandom(seed: number): Random {
  let z = (seed >>> 0) + 0x9e3779b9;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  let state = (z ^ (z >>> 16)) >>> 0 || 0x6d2b79f5;
  return {
    next(): number {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      return state / 4294967296;
    },
  };
}

/** A standard normal draw (Box-Muller). */
export function computeNormal(random: Random): number {
  const u = 1 - random.next();
  const v = random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A lognormal draw with the given median and shape sigma. */
export function computeLognormal(random: Random, median: number, sigma: number): number {
  return median * Math.exp(sigma * computeNormal(random));
}

/** An exponential draw with the given mean. */
export function computeExponential(random: Random, mean: number): number {
  return -mean * Math.log(1 - random.next());
}
