//! Random draws for the simulator, all from seeded generators so runs can be reproduced.

use std::f64::consts::TAU;
use std::hash::{DefaultHasher, Hash, Hasher};

/// A generator seeded from the run's seed and anything that names one stream of draws
/// (a site, a day, a bed slot), so the same stream comes out after a restart.
pub fn stream(seed: u64, name: impl Hash) -> fastrand::Rng {
    let mut h = DefaultHasher::new();
    (seed, name).hash(&mut h);
    fastrand::Rng::with_seed(h.finish())
}

/// A standard normal variate (Box–Muller).
pub fn normal(rng: &mut fastrand::Rng) -> f64 {
    let u1 = rng.f64().max(f64::MIN_POSITIVE);
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
}

/// An exponential variate with the given mean.
pub fn exponential(rng: &mut fastrand::Rng, mean: f64) -> f64 {
    -mean * rng.f64().max(f64::MIN_POSITIVE).ln()
}

/// A log-normal variate with the given median and spread (σ of the log).
pub fn lognormal(rng: &mut fastrand::Rng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// Picks an item with probability proportional to its weight.
pub fn weighted<'a, T>(rng: &mut fastrand::Rng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.f64() * total;
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}
