//! Every sampler against its exact law, on every kernel path this CPU
//! runs: the battery of `nrelu_rbm::verify` at its Standard sample sizes,
//! one test per family. Each test runs at its Bonferroni share of the
//! family-wise α = 0.001 of the whole battery (see docs/statistics.md);
//! every check draws from its own fixed stream, the same on every path.

use nrelu_rbm::verify::{Config, Family, Preset, run};

fn family(f: Family) {
    let mut cfg = Config::new(Preset::Standard);
    cfg.families = vec![f];
    let report = run(&cfg);
    println!("{report}");
    assert!(report.passed(), "{} rejected:\n{report}", f.name());
    assert_eq!(report.rows.len(), cfg.items().len() * cfg.paths.len());
}

#[test]
fn bernoulli_counts_follow_sigmoid() {
    family(Family::Bernoulli);
}

#[test]
fn normal_is_standard_normal_in_body_and_tails() {
    family(Family::Normal);
}

#[test]
fn nrelu_has_the_right_atom_and_truncated_normal_part() {
    family(Family::Nrelu);
}

#[test]
fn binomial_follows_its_pmf() {
    family(Family::Binomial);
}

#[test]
fn ssu_follows_the_poisson_binomial_pmf() {
    family(Family::Ssu);
}

#[test]
fn nrelu_and_ssu_means_and_variances_are_exact() {
    family(Family::Moments);
}

#[test]
fn empirical_w1_between_nrelu_and_ssu_follows_the_exact_curve() {
    family(Family::Wasserstein);
}

#[test]
fn gibbs_chains_sample_the_exact_joint() {
    family(Family::Gibbs);
}

/// All paths give the same statistics: they draw the same bits.
#[test]
fn every_path_gives_the_same_statistic() {
    let mut cfg = Config::new(Preset::Quick);
    cfg.families = vec![Family::Nrelu, Family::Ssu];
    let report = run(&cfg);
    for pair in report.rows.chunks(cfg.paths.len()) {
        for r in pair {
            assert_eq!(r.check, pair[0].check);
            assert_eq!(
                r.outcome.statistic.to_bits(),
                pair[0].outcome.statistic.to_bits(),
                "{}",
                r.check.name()
            );
        }
    }
}
