//! log Z for `rbm eval`: exact by enumerating a layer, or by forward and
//! reverse AIS from the base-rate model of the data ([`LogZ`]).

use super::measures::EvalOptions;
use super::options::Method;
use crate::cli::CliError;
use crate::likelihood::{
    AisConfig, AisEstimate, Enumerated, MAX_ENUMERATED_UNITS, ais, base_rate_bias,
    default_schedule, enumerable_layer, exact_log_z, reverse_ais,
};
use crate::parallel::{Workers, in_pool};
use crate::rbm::Rbm;

/// How log Z was obtained.
#[derive(Clone, Debug, PartialEq)]
pub enum LogZ {
    /// By enumerating a layer.
    Exact {
        /// log Z.
        log_z: f64,
        /// The layer enumerated.
        layer: Enumerated,
        /// Its number of units.
        units: usize,
    },
    /// By annealed importance sampling from both sides.
    Ais {
        /// Forward AIS (a stochastic lower bound).
        forward: AisEstimate,
        /// Reverse AIS (a stochastic upper bound).
        reverse: AisEstimate,
        /// The layer reverse AIS drew exact samples of, or `None` when it
        /// started from chains run from the data.
        exact_start: Option<Enumerated>,
        /// Gibbs sweeps from the data before reverse AIS (when
        /// `exact_start` is `None`).
        burn_in: usize,
    },
}

impl LogZ {
    /// The value (the estimate for AIS).
    pub fn value(&self) -> f64 {
        match self {
            LogZ::Exact { log_z, .. } => *log_z,
            LogZ::Ais { forward, .. } => forward.log_z,
        }
    }

    /// `exact` or `ais`.
    pub fn method(&self) -> &'static str {
        match self {
            LogZ::Exact { .. } => "exact",
            LogZ::Ais { .. } => "ais",
        }
    }

    /// Standard error, 0 when exact.
    pub fn std(&self) -> f64 {
        match self {
            LogZ::Exact { .. } => 0.0,
            LogZ::Ais { forward, .. } => forward.log_z_std,
        }
    }

    /// The ±3 standard-error band (a point when exact; for AIS the lower
    /// end may be −∞, and both ends are infinite for a single run).
    pub fn band(&self) -> (f64, f64) {
        match self {
            LogZ::Exact { log_z, .. } => (*log_z, *log_z),
            LogZ::Ais { forward, .. } => (forward.log_z_lower, forward.log_z_upper),
        }
    }

    /// The reverse AIS estimate (`None` when exact).
    pub fn reverse(&self) -> Option<f64> {
        match self {
            LogZ::Exact { .. } => None,
            LogZ::Ais { reverse, .. } => Some(reverse.log_z),
        }
    }
}

/// log Z of `rbm` for [`evaluate`](super::measures::evaluate), on the
/// binary data `v`: exact or by AIS as `opts.method` says (exact when a
/// layer can be enumerated, by AIS otherwise, if not given).
///
/// # Errors
/// [`CliError::Usage`] for `--method exact` on a model too large to
/// enumerate.
pub(super) fn log_z_of(
    rbm: &Rbm,
    v: &[f32],
    opts: &EvalOptions,
    phase: &mut impl FnMut(&str),
) -> Result<LogZ, CliError> {
    // One pool of `--threads` threads for the command (none for 0, which
    // runs on rayon's global pool with all cores, nor for 1); the
    // likelihood functions run on the pool they are called in.
    let pool = match opts.threads {
        0 | 1 => None,
        t => Workers::new(t)?.pool(),
    };
    let layer = enumerable_layer(rbm);
    let method = match (opts.method, layer) {
        (Some(m), _) => m,
        (None, Some(_)) => Method::Exact,
        (None, None) => Method::Ais,
    };
    match method {
        Method::Exact => {
            if layer.is_none() {
                return Err(CliError::Usage(format!(
                    "--method exact: this model ({} visible x {} {} hidden units) has no layer \
                     that can be enumerated (at most {MAX_ENUMERATED_UNITS} units; hidden ones \
                     must be bernoulli); use --method ais",
                    rbm.n_visible(),
                    rbm.n_hidden(),
                    rbm.hidden()
                )));
            }
            phase("log Z by enumeration");
            let (log_z, layer) = in_pool(pool, || exact_log_z(rbm, opts.threads))?;
            let units = match layer {
                Enumerated::Visible => rbm.n_visible(),
                Enumerated::Hidden => rbm.n_hidden(),
            };
            Ok(LogZ::Exact {
                log_z,
                layer,
                units,
            })
        }
        Method::Ais => {
            let base = base_rate_bias(v, rbm.n_visible())?;
            let cfg = AisConfig::new(opts.seed)
                .with_runs(opts.ais_runs)
                .with_betas(default_schedule(opts.ais_betas))
                .with_threads(opts.threads)
                .with_burn_in(opts.ais_burn_in);
            phase(&format!(
                "log Z by forward AIS: {} runs x {} temperatures",
                opts.ais_runs, opts.ais_betas
            ));
            let forward = in_pool(pool.clone(), || ais(rbm, &base, &cfg))?;
            phase(&format!(
                "log Z by reverse AIS: {} runs x {} temperatures",
                opts.ais_runs, opts.ais_betas
            ));
            let reverse = in_pool(pool, || reverse_ais(rbm, &base, v, &cfg))?;
            Ok(LogZ::Ais {
                forward,
                reverse,
                exact_start: layer,
                burn_in: opts.ais_burn_in,
            })
        }
    }
}
