//! `rbm train --layers 500,200`: trains a stack greedily ([`train_stack`]):
//! layer `i` has the `i`-th width, `--hidden-units` hidden units and seed
//! `--seed + i`; the first layer's visible units are `--visible` (with the
//! input map of [`super::input`]), each next layer's are [`visible_above`]
//! the layer below (Bernoulli above Bernoulli hidden units, Gaussian
//! otherwise). Every layer gets the same hyper-parameters, except that
//! without `--lr` each layer gets the default rate of its own visible type
//! (0.005 for a Gaussian upper layer). The stack is written as one file
//! ([`Stack::save`]).
//!
//! `--equivariant` trains the intensity-equivariant recipe instead
//! ([`train_equivariant_stack`]): NReLU layers with both bias vectors held
//! at zero, Gaussian visible units at the bottom, and no standardisation:
//! own data is used as it is (or divided by `--scale S`, or by 255 for
//! uint8 data), the embedded digits get the pure scale map `x / 16` (mean
//! 0, std 16); a pure scale map keeps f(αx) = α f(x).

use super::input::{Prepared, prepare, prepare_equivariant};
use super::options::TrainArgs;
use super::progress::{batch_bar, sampling_name, show_stack_progress};
use super::{probe_writable, write_error};
use crate::cli::CliError;
use crate::cli::output::{check_output_path, is_stdout, output_name};
use crate::error::RbmError;
use crate::rbm::VisibleUnit;
use crate::stack::{LayerSpec, Stack, train_equivariant_stack, train_stack, visible_above};
use crate::train::{Progress, TrainConfig};
use crate::units::HiddenUnit;
use std::ops::ControlFlow;

/// The most layers a stack file may hold (what [`Stack::load`] accepts).
pub const MAX_LAYERS: usize = 1000;

/// `rbm train --layers ...`: trains a stack greedily and saves it as one
/// file.
pub(super) fn run(args: &TrainArgs, widths: &[usize]) -> Result<(), CliError> {
    let plan = plan_stack(args, widths)?;
    check_output_path(&args.out)?;
    probe_writable(&args.out)?;
    let prepared = if args.equivariant {
        prepare_equivariant(&args.data_input(), args.scale)?
    } else {
        prepare(&args.data_input(), args.scale, args.visible)?
    };
    let data = &prepared.data;
    let log = !args.quiet;
    if log {
        print_stack_plan(args, &plan, &prepared);
    }
    let bar = batch_bar(log);
    let n = widths.len();
    let epochs = plan.configs[0].epochs;
    let mut current = 0;
    let progress = |i: usize, p: Progress<'_>| {
        current = i;
        show_stack_progress(bar.as_ref(), log, (i, n), epochs, p);
        ControlFlow::Continue(())
    };
    let result = if args.equivariant {
        train_equivariant_stack(&data.values, data.cols, widths, &plan.configs, progress)
    } else {
        train_stack(
            &data.values,
            data.cols,
            plan.visibles[0],
            &plan.specs,
            &plan.configs,
            progress,
        )
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let stack = match result {
        Ok((stack, _)) => stack,
        Err(RbmError::Diverged { epoch, batch, .. }) => {
            return Err(CliError::Usage(format!(
                "training diverged in layer {}/{n} at epoch {epoch}, batch {batch}: the weights \
                 became non-finite; lower --lr (it was {}); no model was written",
                current + 1,
                plan.configs[current].learning_rate
            )));
        }
        Err(e) => return Err(e.into()),
    };
    save_stack(args, stack, &prepared, widths, log)
}

/// The layers of a stack: each one's hidden units, visible units and
/// training configuration, from the bottom up.
struct StackPlan {
    specs: Vec<LayerSpec>,
    visibles: Vec<VisibleUnit>,
    configs: Vec<TrainConfig>,
}

/// The layers `--layers` asks for (see the [module docs](self)), with
/// every configuration checked.
fn plan_stack(args: &TrainArgs, widths: &[usize]) -> Result<StackPlan, CliError> {
    args.check_nrelu_mean()?;
    if widths.is_empty() {
        return Err(CliError::Usage(
            "--layers needs at least one width, e.g. --layers 500,200".to_owned(),
        ));
    }
    if widths.len() > MAX_LAYERS {
        return Err(CliError::Usage(format!(
            "--layers gives {} widths; a stack holds at most {MAX_LAYERS} layers",
            widths.len()
        )));
    }
    let hidden = if args.equivariant {
        HiddenUnit::Nrelu
    } else {
        args.hidden_units
    };
    let specs: Vec<LayerSpec> = widths
        .iter()
        .map(|&n_hidden| LayerSpec::new(n_hidden, hidden).with_nrelu_mean(args.nrelu_mean))
        .collect();
    let mut visibles = vec![if args.equivariant {
        VisibleUnit::Gaussian
    } else {
        args.visible
    }];
    visibles.extend(
        specs[..widths.len() - 1]
            .iter()
            .map(|s| visible_above(s.hidden)),
    );
    let configs: Vec<TrainConfig> = visibles
        .iter()
        .enumerate()
        .map(|(i, &vis)| TrainConfig {
            update_biases: !args.equivariant,
            ..args.config_for(vis, args.seed.wrapping_add(i as u64))
        })
        .collect();
    for ((cfg, spec), &vis) in configs.iter().zip(&specs).zip(&visibles) {
        cfg.validate()?;
        crate::train::check_tempering_units(cfg, vis, spec.hidden)?;
    }
    Ok(StackPlan {
        specs,
        visibles,
        configs,
    })
}

/// Prints what the stack run will do: one line for the whole run, one per
/// layer.
fn print_stack_plan(args: &TrainArgs, plan: &StackPlan, prepared: &Prepared) {
    let (data, n, cfg0) = (&prepared.data, plan.specs.len(), &plan.configs[0]);
    let sampling = sampling_name(cfg0.sampling);
    let recipe = if args.equivariant {
        " (intensity-equivariant: biases held at zero)"
    } else {
        ""
    };
    eprintln!(
        "training a stack of {n} layers{recipe} on {} rows of {}: {} epoch{} per layer, batch {}, {sampling}",
        data.rows,
        prepared.source,
        cfg0.epochs,
        crate::cli::output::plural(cfg0.epochs),
        cfg0.batch_size,
    );
    let w = n.to_string().len();
    let mut below = data.cols;
    let layers = plan.specs.iter().zip(&plan.visibles).zip(&plan.configs);
    for (i, ((spec, vis), cfg)) in layers.enumerate() {
        eprintln!(
            "layer {:>w$}/{n}: {below} {vis} visible -> {} {} hidden units, lr {}, seed {}",
            i + 1,
            spec.n_hidden,
            spec.hidden,
            cfg.learning_rate,
            cfg.seed,
        );
        below = spec.n_hidden;
    }
}

/// Writes the trained stack, with the input map on its bottom layer, to
/// `--out`.
fn save_stack(
    args: &TrainArgs,
    stack: Stack,
    prepared: &Prepared,
    widths: &[usize],
    log: bool,
) -> Result<(), CliError> {
    // The input map belongs to the bottom layer.
    let mut layers = stack.layers().to_vec();
    layers[0].set_standardization(prepared.map.clone())?;
    let stack = Stack::new(layers)?;
    if is_stdout(&args.out) {
        crate::cli::output::write_stdout(&stack.to_model_file()?.to_bytes()?)?;
    } else {
        stack.save(&args.out).map_err(write_error)?;
    }
    if log {
        let shape: Vec<String> = std::iter::once(prepared.data.cols)
            .chain(widths.iter().copied())
            .map(|w| w.to_string())
            .collect();
        eprintln!(
            "wrote a stack of {} layers ({}) to {}",
            widths.len(),
            shape.join(" -> "),
            output_name(&args.out)
        );
    }
    Ok(())
}
