//! Checkpoints of the library: a run stopped at any mini-batch and resumed
//! from its checkpoint ends with the same bits as an uninterrupted run
//! (CD and PCD with momentum, centring, parallel tempering; resumed on
//! another thread count); corrupted, truncated and mismatched checkpoints
//! are refused with typed errors.

use nrelu_rbm::train::{Checkpoint, Progress, Sampling, TrainConfig, train, train_resumable};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, RbmError, VisibleUnit};
use std::ops::ControlFlow;

mod common;
use common::{bits, quiet};

/// `rows` rows over `v` binary units, from a fixed xorshift.
fn data(rows: usize, v: usize) -> Vec<f32> {
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    (0..rows * v)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let on = (i % v) * 3 / v == (i / v) % 3;
            f32::from(u8::from(on != s.is_multiple_of(9)))
        })
        .collect()
}

fn model(hidden: HiddenUnit) -> Rbm {
    Rbm::new(12, 7, VisibleUnit::Bernoulli, hidden, 5).unwrap()
}

/// The batch number of a mini-batch report, counted over the whole run.
fn batch_index(p: &Progress<'_>, per_epoch: usize) -> Option<usize> {
    match p {
        Progress::Batch { epoch, batch, .. } => Some((epoch - 1) * per_epoch + batch),
        _ => None,
    }
}

/// Trains `cfg` with a stop (checkpoint, then cancel) after each run-wide
/// mini-batch in `stops`, resuming from the bytes of the checkpoint each
/// time (with `threads_after` threads), and returns the final model.
fn interrupted(
    hidden: HiddenUnit,
    cfg: &TrainConfig,
    stops: &[usize],
    threads_after: usize,
) -> Rbm {
    let x = data(50, 12);
    let per_epoch = 50usize.div_ceil(cfg.batch_size());
    let mut saved: Option<Vec<u8>> = None;
    let mut stops = stops.iter().copied().peekable();
    let mut cfg = cfg.clone();
    loop {
        let mut rbm = model(hidden);
        let ck = saved.as_ref().map(|b| Checkpoint::from_bytes(b).unwrap());
        let stop = stops.next();
        let is_stop = |p: &Progress<'_>| stop.is_some() && batch_index(p, per_epoch) == stop;
        let mut out = None;
        let r = train_resumable(
            &mut rbm,
            &x,
            &cfg,
            ck.as_ref(),
            is_stop,
            |ck| {
                out = Some(ck.to_bytes()?);
                Ok(())
            },
            |p| {
                if is_stop(&p) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        match r {
            Ok(_) => {
                assert!(stop.is_none(), "the run did not stop at {stop:?}");
                return rbm;
            }
            Err(RbmError::Cancelled { .. }) => {
                saved = Some(out.expect("a checkpoint was saved at the stop"));
                cfg = cfg.with_threads(threads_after);
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn uninterrupted(hidden: HiddenUnit, cfg: &TrainConfig) -> Rbm {
    let mut rbm = model(hidden);
    train(&mut rbm, &data(50, 12), cfg, quiet).unwrap();
    rbm
}

fn base() -> TrainConfig {
    TrainConfig::default()
        .with_epochs(3)
        .with_batch_size(9)
        .with_momentum(0.7)
        .with_threads(1)
}

#[test]
fn resuming_at_any_mini_batch_gives_the_same_bits() {
    let per_epoch = 50usize.div_ceil(9);
    let all: Vec<usize> = (1..3 * per_epoch).collect();
    for sampling in [Sampling::Cd(1), Sampling::Pcd(2)] {
        for hidden in [HiddenUnit::Nrelu, HiddenUnit::Bernoulli] {
            let cfg = base().with_sampling(sampling);
            let want = bits(&uninterrupted(hidden, &cfg));
            // Killed once mid-epoch, once at an epoch's last batch, and at
            // every mini-batch in turn.
            for stops in [
                vec![4],
                vec![per_epoch],
                vec![3, 10, per_epoch * 2],
                all.clone(),
            ] {
                let got = bits(&interrupted(hidden, &cfg, &stops, 1));
                assert!(got == want, "{sampling:?} {hidden:?} stopped at {stops:?}");
            }
            let got = bits(&interrupted(
                hidden,
                &cfg.clone().with_threads(2),
                &[5, 9],
                3,
            ));
            assert!(got == want, "{sampling:?} {hidden:?} on 2 then 3 threads");
        }
    }
}

#[test]
fn resuming_centred_and_tempered_runs_gives_the_same_bits() {
    let cfgs = [
        base()
            .with_sampling(Sampling::Pcd(1))
            .with_centering(Some(0.1)),
        base().with_sampling(Sampling::Pcd(1)).with_tempering(3),
        base()
            .with_sampling(Sampling::Pcd(2))
            .with_tempering(3)
            .with_centering(Some(0.05)),
    ];
    for cfg in cfgs {
        let want = bits(&uninterrupted(HiddenUnit::Bernoulli, &cfg));
        let got = bits(&interrupted(HiddenUnit::Bernoulli, &cfg, &[2, 6, 13], 2));
        assert!(got == want, "{cfg:?}");
    }
}

/// The bytes of a checkpoint after one epoch of `cfg`.
fn checkpoint_bytes(cfg: &TrainConfig) -> Vec<u8> {
    let mut rbm = model(HiddenUnit::Nrelu);
    let mut out = Vec::new();
    let first_epoch =
        |p: &Progress<'_>| matches!(p, Progress::Model { stats, .. } if stats.epoch == 1);
    let r = train_resumable(
        &mut rbm,
        &data(50, 12),
        cfg,
        None,
        first_epoch,
        |ck| {
            out = ck.to_bytes()?;
            Ok(())
        },
        |p| {
            if first_epoch(&p) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    );
    assert!(matches!(r, Err(RbmError::Cancelled { epoch: 1 })));
    out
}

#[test]
fn corrupted_and_truncated_checkpoints_are_refused() {
    let bytes = checkpoint_bytes(&base().with_sampling(Sampling::Pcd(1)));
    assert!(Checkpoint::from_bytes(&bytes).is_ok());
    // Every truncation, and a flipped bit anywhere (a sample of positions
    // covering the header and the data), is refused without a panic.
    for len in (0..bytes.len()).step_by(7) {
        let r = Checkpoint::from_bytes(&bytes[..len]);
        assert!(
            matches!(r, Err(RbmError::InvalidCheckpoint { .. })),
            "cut at {len}"
        );
    }
    for pos in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        for bit in [0, 3, 7] {
            let mut b = bytes.clone();
            b[pos] ^= 1 << bit;
            // A flip in the header's padding spaces or its JSON layout may
            // still parse to the same content; anything that parses must
            // then be the same checkpoint.
            if let Ok(ck) = Checkpoint::from_bytes(&b) {
                assert_eq!(
                    ck,
                    Checkpoint::from_bytes(&bytes).unwrap(),
                    "flip at {pos}.{bit}"
                );
            }
        }
    }
    // A flip in the tensor data (the last byte) is always caught.
    let mut b = bytes.clone();
    *b.last_mut().unwrap() ^= 1;
    let e = Checkpoint::from_bytes(&b).unwrap_err();
    assert!(e.to_string().contains("corrupted"), "{e}");
    assert!(!e.to_string().contains('\n'));
}

#[test]
fn an_option_that_would_change_the_run_is_refused() {
    let cfg = base().with_sampling(Sampling::Pcd(1));
    let ck = Checkpoint::from_bytes(&checkpoint_bytes(&cfg)).unwrap();
    let resume = |cfg: &TrainConfig, x: &[f32]| {
        let mut rbm = model(HiddenUnit::Nrelu);
        train_resumable(&mut rbm, x, cfg, Some(&ck), |_| false, |_| Ok(()), quiet)
    };
    let x = data(50, 12);
    let changed = [
        ("lr", cfg.clone().with_learning_rate(0.02)),
        ("momentum", cfg.clone().with_momentum(0.1)),
        ("sampling", cfg.clone().with_sampling(Sampling::Pcd(2))),
        ("seed", cfg.clone().with_seed(9)),
        ("epochs", cfg.clone().with_epochs(4)),
        ("batch", cfg.clone().with_batch_size(10)),
    ];
    for (name, c) in changed {
        match resume(&c, &x) {
            Err(RbmError::CheckpointMismatch { option, .. }) => assert_eq!(option, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    let mut other_data = x.clone();
    other_data[0] = 1.0 - other_data[0];
    assert!(matches!(
        resume(&cfg, &other_data),
        Err(RbmError::CheckpointMismatch { option: "data", .. })
    ));
    // The thread count changes no bit, so it may differ.
    assert!(resume(&cfg.clone().with_threads(2), &x).is_ok());
}
