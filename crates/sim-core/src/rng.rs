//! Seeded, portable random streams.
//!
//! Every purpose of every block (a client's arrivals, its keys, a server's service times, a
//! retry's jitter…) draws from its own stream, derived from the scenario seed, the block's id and
//! the purpose. Changing one knob therefore does not reshuffle the draws of the others (common
//! random numbers), and adding a block does not change the streams of the blocks already there.
//!
//! All transcendental functions go through `libm`: the platform math libraries differ in the
//! last bit between native targets and wasm32, and a single differing bit in a service time can
//! change which event comes first and so the whole run.

use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// What a stream is used for; part of the stream's seed.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub(crate) enum Purpose {
    Arrivals = 1,
    Keys = 2,
    Think = 3,
    Service = 4,
    Errors = 5,
    Jitter = 6,
    Balance = 7,
}

/// The splitmix64 finalizer: a bijection that spreads every input bit over the output.
///
/// Rationale: deriving stream seeds linearly (`seed * k + c`) makes neighbouring seeds produce
/// shifted copies of the same streams; mixing makes them unrelated.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over the bytes of a block id: a stable, platform-independent hash.
fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01B3);
    }
    hash
}

/// One seeded random stream (PCG-64 MCG: fast, small, the same on every platform).
#[derive(Clone, Debug)]
pub(crate) struct Stream {
    rng: Pcg64Mcg,
}

impl Stream {
    pub(crate) fn new(seed: u64, block_id: &str, purpose: Purpose) -> Stream {
        let a = mix64(seed ^ mix64(fnv1a(block_id)));
        let b = mix64(a ^ mix64(purpose as u64));
        let c = mix64(b ^ 0x5EED);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&b.to_le_bytes());
        bytes[8..].copy_from_slice(&c.to_le_bytes());
        Stream {
            rng: Pcg64Mcg::from_seed(bytes),
        }
    }

    /// Uniform in [0, 1) with 53 random bits.
    #[inline]
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (n ≥ 1), by multiply-shift (bias < n / 2^64).
    #[inline]
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.rng.next_u64()) * n as u128) >> 64) as usize
    }

    /// Exponential with the given mean.
    #[inline]
    pub(crate) fn exponential(&mut self, mean: f64) -> f64 {
        -mean * libm::log(1.0 - self.uniform())
    }

    /// Standard normal by Marsaglia's polar method (only `ln` and `sqrt`, both portable here).
    pub(crate) fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * libm::sqrt(-2.0 * libm::log(s) / s);
            }
        }
    }
}

/// Zipf(s) over the keys `0..n` (key 0 the most popular), by rejection-inversion
/// (Hörmann & Derflinger, "Rejection-inversion to generate variates from monotone discrete
/// distributions", 1996): O(1) memory and expected O(1) time for any number of keys.
#[derive(Clone, Debug)]
pub(crate) struct Zipf {
    n: f64,
    s: f64,
    h_integral_x1: f64,
    h_integral_n: f64,
    squeeze: f64,
}

impl Zipf {
    pub(crate) fn new(n: u64, s: f64) -> Zipf {
        let mut z = Zipf {
            n: n as f64,
            s,
            h_integral_x1: 0.0,
            h_integral_n: 0.0,
            squeeze: 0.0,
        };
        z.h_integral_x1 = z.h_integral(1.5) - 1.0;
        z.h_integral_n = z.h_integral(z.n + 0.5);
        z.squeeze = 2.0 - z.h_integral_inverse(z.h_integral(2.5) - z.h(2.0));
        z
    }

    /// A key in `0..n`.
    pub(crate) fn sample(&self, stream: &mut Stream) -> u64 {
        if self.n <= 1.0 {
            return 0;
        }
        loop {
            let u = self.h_integral_n + stream.uniform() * (self.h_integral_x1 - self.h_integral_n);
            let x = self.h_integral_inverse(u);
            let k = libm::floor(x + 0.5).clamp(1.0, self.n);
            if k - x <= self.squeeze || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u64 - 1;
            }
        }
    }

    /// h(x) = x^(-s).
    fn h(&self, x: f64) -> f64 {
        libm::exp(-self.s * libm::log(x))
    }

    /// H(x) = ∫ h = (x^(1-s) - 1) / (1 - s), written to stay exact near s = 1.
    fn h_integral(&self, x: f64) -> f64 {
        let log_x = libm::log(x);
        expm1_over_x((1.0 - self.s) * log_x) * log_x
    }

    fn h_integral_inverse(&self, y: f64) -> f64 {
        let t = (y * (1.0 - self.s)).max(-1.0);
        libm::exp(log1p_over_x(t) * y)
    }
}

/// (e^x − 1) / x, continuous at 0.
fn expm1_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        libm::expm1(x) / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0)
    }
}

/// ln(1 + x) / x, continuous at 0.
fn log1p_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        libm::log1p(x) / x
    } else {
        1.0 - x * (0.5 - x / 3.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_block_and_purpose_and_repeat_by_seed() {
        let draw = |seed, id, purpose| Stream::new(seed, id, purpose).rng.next_u64();
        assert_eq!(
            draw(7, "api", Purpose::Service),
            draw(7, "api", Purpose::Service)
        );
        assert_ne!(
            draw(7, "api", Purpose::Service),
            draw(8, "api", Purpose::Service)
        );
        assert_ne!(
            draw(7, "api", Purpose::Service),
            draw(7, "db", Purpose::Service)
        );
        assert_ne!(
            draw(7, "api", Purpose::Service),
            draw(7, "api", Purpose::Errors)
        );
    }

    #[test]
    fn exponential_has_its_mean() {
        let mut s = Stream::new(1, "x", Purpose::Service);
        let n = 200_000;
        let mean = (0..n).map(|_| s.exponential(0.25)).sum::<f64>() / n as f64;
        assert!((mean - 0.25).abs() < 0.25 * 0.01, "mean {mean}");
    }

    #[test]
    fn normal_has_mean_zero_and_unit_variance() {
        let mut s = Stream::new(3, "x", Purpose::Service);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| s.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }

    #[test]
    fn zipf_matches_its_probabilities() {
        for &s in &[0.0, 0.8, 1.0, 1.3] {
            let n = 50u64;
            let zipf = Zipf::new(n, s);
            let mut stream = Stream::new(11, "c", Purpose::Keys);
            let mut counts = vec![0u64; n as usize];
            let draws = 400_000;
            for _ in 0..draws {
                counts[zipf.sample(&mut stream) as usize] += 1;
            }
            let norm: f64 = (1..=n).map(|k| (k as f64).powf(-s)).sum();
            for k in [1u64, 2, 10, 50] {
                let expected = (k as f64).powf(-s) / norm;
                let seen = counts[(k - 1) as usize] as f64 / draws as f64;
                assert!(
                    (seen - expected).abs() < 0.1 * expected + 0.001,
                    "s={s} k={k}: seen {seen}, expected {expected}"
                );
            }
        }
    }

    #[test]
    fn below_stays_in_range() {
        let mut s = Stream::new(5, "b", Purpose::Balance);
        assert!((0..10_000).all(|_| s.below(3) < 3));
        assert_eq!(s.below(1), 0);
    }
}
