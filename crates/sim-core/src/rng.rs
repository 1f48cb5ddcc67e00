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

use std::sync::OnceLock;

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

/// The full 128-bit product of two 64-bit numbers, as (low, high) halves.
///
/// Rationale: x86-64 and AArch64 have a widening multiply, and `u128` arithmetic compiles to
/// it; wasm32 has none, and a `u128` product there is a call to the generic 128×128 routine
/// of the compiler's runtime. Every draw of every stream needs one such product, so on wasm32
/// it is written with the four 32×32 products it takes (about 40% less time per draw in V8;
/// see docs/performance.md). The two ways give the same bits (tested).
#[inline(always)]
fn wide_mul(a: u64, b: u64) -> (u64, u64) {
    #[cfg(target_arch = "wasm32")]
    {
        wide_mul_by_halves(a, b)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let p = u128::from(a) * u128::from(b);
        (p as u64, (p >> 64) as u64)
    }
}

/// [`wide_mul`] from 32-bit halves: what wasm32 runs.
#[inline(always)]
#[cfg_attr(not(any(test, target_arch = "wasm32")), allow(dead_code))]
fn wide_mul_by_halves(a: u64, b: u64) -> (u64, u64) {
    const LOW: u64 = 0xFFFF_FFFF;
    let (a0, a1) = (a & LOW, a >> 32);
    let (b0, b1) = (b & LOW, b >> 32);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // The middle column: at most 3 (2^32 − 1), so it cannot overflow.
    let mid = (p00 >> 32) + (p01 & LOW) + (p10 & LOW);
    (
        (mid << 32) | (p00 & LOW),
        p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32),
    )
}

/// PCG-64 MCG (O'Neill's `mcg_xsl_rr_128_64`), the stream `rand_pcg::Pcg64Mcg` gives for the
/// same seed, bit for bit (tested): a 128-bit state multiplied by a constant at each draw, and
/// the output "xorshift low, random rotation" of it.
///
/// Rationale: written here (it is a few lines) so that its 128-bit multiply can be
/// [`wide_mul`], the state kept as two 64-bit halves that wasm32 handles natively.
#[derive(Clone, Debug)]
struct Pcg64Mcg {
    low: u64,
    high: u64,
}

impl Pcg64Mcg {
    const MULTIPLIER_LOW: u64 = 0x4385_DF64_9FCC_F645;
    const MULTIPLIER_HIGH: u64 = 0x2360_ED05_1FC6_5DA4;

    /// The generator whose state is the seed read as a little-endian number, made odd.
    fn from_seed(low: u64, high: u64) -> Pcg64Mcg {
        Pcg64Mcg { low: low | 1, high }
    }

    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        // state × MULTIPLIER mod 2^128, by 64-bit halves.
        let (low, carry) = wide_mul(self.low, Self::MULTIPLIER_LOW);
        let high = carry
            .wrapping_add(self.high.wrapping_mul(Self::MULTIPLIER_LOW))
            .wrapping_add(self.low.wrapping_mul(Self::MULTIPLIER_HIGH));
        self.low = low;
        self.high = high;
        // XSL RR: the two halves xored, rotated by the state's top six bits.
        (high ^ low).rotate_right((high >> 58) as u32)
    }
}

/// One seeded random stream (PCG-64 MCG: fast, small, the same on every platform).
#[derive(Clone, Debug)]
pub(crate) struct Stream {
    rng: Pcg64Mcg,
    ziggurat: &'static ExpZiggurat,
}

/// Layers of the exponential ziggurat (Marsaglia & Tsang, "The ziggurat method for generating
/// random variables", 2000): 256 rectangles of equal area under e^(-x).
///
/// Rationale: an exponential draw by inversion costs one `ln` (about 19 ns with `libm`); the
/// ziggurat returns from a table lookup and one multiplication 98.9% of the time, and needs
/// `exp` or `ln` only in the rare wedge or tail cases. Arrivals and service times are most of
/// the draws of a run. The tables are built with `libm`, so they are the same everywhere.
#[derive(Debug)]
pub(crate) struct ExpZiggurat {
    /// Right edges of the layers, decreasing: `x[0]` is the base layer's virtual width
    /// (`V / f(R)`), `x[1] = R`, `x[256] = 0`.
    x: [f64; 257],
    /// `f[i] = e^(-x[i])`, increasing.
    f: [f64; 257],
}

/// Where the tail starts, and the area of each layer, for 256 layers.
const ZIGGURAT_R: f64 = 7.69711747013105; // 7.69711747013104972
const ZIGGURAT_V: f64 = 0.003949659822581557; // 0.0039496598225815571993

impl ExpZiggurat {
    fn build() -> ExpZiggurat {
        let mut x = [0.0; 257];
        let mut f = [0.0; 257];
        x[0] = ZIGGURAT_V / libm::exp(-ZIGGURAT_R);
        x[1] = ZIGGURAT_R;
        f[0] = libm::exp(-x[0]);
        f[1] = libm::exp(-ZIGGURAT_R);
        for i in 1..256 {
            f[i + 1] = f[i] + ZIGGURAT_V / x[i];
            x[i + 1] = -libm::log(f[i + 1]);
        }
        x[256] = 0.0;
        f[256] = 1.0;
        ExpZiggurat { x, f }
    }

    fn get() -> &'static ExpZiggurat {
        static TABLES: OnceLock<ExpZiggurat> = OnceLock::new();
        TABLES.get_or_init(ExpZiggurat::build)
    }
}

impl Stream {
    pub(crate) fn new(seed: u64, block_id: &str, purpose: Purpose) -> Stream {
        let a = mix64(seed ^ mix64(fnv1a(block_id)));
        let b = mix64(a ^ mix64(purpose as u64));
        let c = mix64(b ^ 0x5EED);
        Stream {
            rng: Pcg64Mcg::from_seed(b, c),
            ziggurat: ExpZiggurat::get(),
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
        wide_mul(self.rng.next_u64(), n as u64).1 as usize
    }

    /// Exponential with the given mean.
    #[inline]
    pub(crate) fn exponential(&mut self, mean: f64) -> f64 {
        mean * self.standard_exponential()
    }

    /// Exponential with mean 1, by the ziggurat (see [`ExpZiggurat`]).
    #[inline]
    fn standard_exponential(&mut self) -> f64 {
        let z = self.ziggurat;
        loop {
            let bits = self.rng.next_u64();
            // The low 8 bits pick the layer; the top 53 (disjoint) the position in it.
            let layer = (bits & 0xFF) as usize;
            let u = (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
            let x = u * z.x[layer];
            if x < z.x[layer + 1] {
                return x; // inside the rectangle that lies wholly under the curve
            }
            if layer == 0 {
                // The tail beyond R is R plus an exponential (memorylessness).
                return ZIGGURAT_R - libm::log(1.0 - self.uniform());
            }
            // The wedge between the curve and the rectangle: accept under the curve.
            let y = z.f[layer] + self.uniform() * (z.f[layer + 1] - z.f[layer]);
            if y < libm::exp(-x) {
                return x;
            }
        }
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
    fn the_stream_is_rand_pcgs_pcg64mcg_bit_for_bit() {
        use rand_core::{RngCore, SeedableRng};
        for (seed, id, purpose) in [
            (0, "", Purpose::Arrivals),
            (7, "api", Purpose::Service),
            (u64::MAX, "db", Purpose::Balance),
        ] {
            let a = mix64(seed ^ mix64(fnv1a(id)));
            let b = mix64(a ^ mix64(purpose as u64));
            let c = mix64(b ^ 0x5EED);
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&b.to_le_bytes());
            bytes[8..].copy_from_slice(&c.to_le_bytes());
            let mut reference = rand_pcg::Pcg64Mcg::from_seed(bytes);
            let mut ours = Stream::new(seed, id, purpose);
            for _ in 0..100_000 {
                assert_eq!(ours.rng.next_u64(), reference.next_u64());
            }
        }
    }

    #[test]
    fn the_product_by_halves_is_the_128_bit_product() {
        let mut x = 0x0123_4567_89AB_CDEFu64;
        let edges = [0, 1, 0xFFFF_FFFF, 1 << 32, u64::MAX, u64::MAX - 1, 1 << 63];
        let check = |a: u64, b: u64| {
            let p = u128::from(a) * u128::from(b);
            assert_eq!(
                wide_mul_by_halves(a, b),
                (p as u64, (p >> 64) as u64),
                "{a} × {b}"
            );
            assert_eq!(wide_mul(a, b), wide_mul_by_halves(a, b));
        };
        for a in edges {
            for b in edges {
                check(a, b);
            }
        }
        for _ in 0..100_000 {
            let a = mix64(x);
            x = x.wrapping_add(1);
            let b = mix64(x);
            check(a, b);
        }
    }

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
    fn exponential_follows_its_distribution_function_into_the_tail() {
        let mut s = Stream::new(4, "x", Purpose::Service);
        let n = 2_000_000;
        let draws: Vec<f64> = (0..n).map(|_| s.exponential(1.0)).collect();
        assert!(draws.iter().all(|&d| d >= 0.0 && d.is_finite()));
        // P(X > t) = e^-t, from the body through the wedges to the tail beyond R ≈ 7.7.
        for t in [0.1, 0.5, 1.0, 2.0, 4.0, 7.0, 8.0, 10.0] {
            let seen = draws.iter().filter(|&&d| d > t).count() as f64;
            let expected = n as f64 * libm::exp(-t);
            let sd = expected.sqrt();
            assert!(
                (seen - expected).abs() < 5.0 * sd + 1.0,
                "P(X > {t}): {seen} vs {expected}"
            );
        }
    }

    #[test]
    fn ziggurat_layers_have_equal_area_and_reach_the_top() {
        let z = ExpZiggurat::build();
        for i in 1..255 {
            let area = z.x[i] * (z.f[i + 1] - z.f[i]);
            assert!((area - ZIGGURAT_V).abs() < 1e-12, "layer {i}: {area}");
            assert!(z.x[i + 1] < z.x[i]);
        }
        // The last computed edge lands at the top of the curve.
        let top = -libm::log(z.f[255] + ZIGGURAT_V / z.x[255]);
        assert!(top.abs() < 1e-6, "the last edge is at {top}, not 0");
        // The base layer holds the rectangle up to R plus the tail: area V.
        let base = ZIGGURAT_R * libm::exp(-ZIGGURAT_R) + libm::exp(-ZIGGURAT_R);
        assert!((base - ZIGGURAT_V).abs() < 1e-12, "{base}");
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
