// The standard normal distribution's two-sided tail, P(|Z| ≥ |z|) = Q(1/2, z²/2),
// with Q the regularized upper incomplete gamma function by its series or
// continued fraction (Numerical Recipes, 2nd ed., §6.2, gser and gcf): exact
// far into the tail, where a table or 1 − erf would round to 0. Checked
// against R's pnorm() in test/unit/history-statistics.test.ts.

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI); // ln Γ(1/2)

function upperGammaHalf(x: number): number {
  const a = 0.5;
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - LOG_SQRT_PI);
  if (x < a + 1) {
    // Series for P(a, x); Q = 1 − P.
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 500; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return 1 - sum * front;
  }
  // Continued fraction for Q(a, x) (modified Lentz).
  const TINY = 1e-300;
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return front * h;
}

/** P(|Z| ≥ |z|) for a standard normal Z. */
export const normalTwoSidedP = (z: number): number => (Number.isFinite(z) ? upperGammaHalf((z * z) / 2) : 0);
