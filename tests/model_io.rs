//! Model files: bit-exact round trips, the exact header, determinism, and
//! every kind of damage giving an error (never a panic or a wrong model).

use nrelu_rbm::model_io::{self, ModelFile};
use nrelu_rbm::units::{HiddenUnit, NreluMean};
use nrelu_rbm::{Rbm, RbmError, Standardization, VisibleUnit};
use safetensors::tensor::{Dtype, View};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

const HIDDEN: [HiddenUnit; 5] = [
    HiddenUnit::Bernoulli,
    HiddenUnit::Nrelu,
    HiddenUnit::Ssu,
    HiddenUnit::binomial_of::<1>(),
    HiddenUnit::binomial_of::<65_536>(),
];
const VISIBLE: [VisibleUnit; 2] = [VisibleUnit::Bernoulli, VisibleUnit::Gaussian];

/// Deterministic awkward values: signs, -0.0, subnormals, huge and tiny
/// magnitudes, values with all mantissa bits in use.
fn awkward(n: usize, salt: u32) -> Vec<f32> {
    let special = [
        -0.0,
        0.0,
        f32::MIN_POSITIVE / 8.0,
        -f32::MIN_POSITIVE,
        f32::MAX,
        -f32::MAX,
        1.0 + f32::EPSILON,
        std::f32::consts::PI,
    ];
    (0..n)
        .map(|i| {
            let k = i as u32 + salt;
            if k.is_multiple_of(5) {
                special[(k as usize / 5) % special.len()]
            } else {
                let bits = k.wrapping_mul(2_654_435_761) ^ 0x3c00_0000;
                let x = f32::from_bits(bits & 0xbfff_ffff);
                if x.is_finite() { x } else { 0.5 }
            }
        })
        .collect()
}

fn positive(n: usize, salt: u32) -> Vec<f32> {
    awkward(n, salt)
        .into_iter()
        .map(|x| {
            let a = x.abs();
            if a > 0.0 { a } else { 1.0 }
        })
        .collect()
}

fn model(v: usize, h: usize, visible: VisibleUnit, hidden: HiddenUnit, std: bool) -> Rbm {
    let map = std.then(|| Standardization::new(awkward(v, 7), positive(v, 8)).unwrap());
    Rbm::from_parts(
        visible,
        hidden,
        awkward(v * h, 1),
        awkward(v, 2),
        awkward(h, 3),
        map,
    )
    .unwrap()
}

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

fn assert_bit_identical(a: &Rbm, b: &Rbm) {
    assert_eq!(a.visible(), b.visible());
    assert_eq!(a.hidden(), b.hidden());
    assert_eq!((a.n_visible(), a.n_hidden()), (b.n_visible(), b.n_hidden()));
    assert_eq!(bits(a.weights()), bits(b.weights()));
    assert_eq!(bits(a.visible_bias()), bits(b.visible_bias()));
    assert_eq!(bits(a.hidden_bias()), bits(b.hidden_bias()));
    match (a.standardization(), b.standardization()) {
        (None, None) => {}
        (Some(x), Some(y)) => {
            assert_eq!(bits(x.mean()), bits(y.mean()));
            assert_eq!(bits(x.std()), bits(y.std()));
        }
        other => panic!("standardization differs: {other:?}"),
    }
}

/// The header JSON and the data section of a safetensors buffer, parsed
/// here by the format's definition.
fn split(bytes: &[u8]) -> (serde_json::Map<String, Value>, &[u8]) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0, "data must start 8-byte aligned");
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let Value::Object(map) = header else {
        panic!("header is not an object")
    };
    (map, &bytes[8 + n..])
}

fn invalid_reason(res: Result<Rbm, RbmError>) -> String {
    match res {
        Err(RbmError::InvalidModel { reason, .. }) => reason,
        other => panic!("expected InvalidModel, got {other:?}"),
    }
}

#[test]
fn round_trip_is_bit_exact_for_every_unit_type() {
    let dir = tempfile::tempdir().unwrap();
    for visible in VISIBLE {
        for hidden in HIDDEN {
            for std in [false, true] {
                let rbm = model(13, 7, visible, hidden, std);
                let path = dir
                    .path()
                    .join(format!("{visible}-{hidden}-{std}.safetensors"));
                model_io::save(&rbm, &path).unwrap();
                let back = model_io::load(&path).unwrap();
                assert_bit_identical(&rbm, &back);
                // The loaded model computes the same thing.
                let v = vec![0.5; 13];
                assert_eq!(
                    bits(&rbm.hidden_means(&v).unwrap()),
                    bits(&back.hidden_means(&v).unwrap())
                );
                // Bytes in memory equal bytes on disk.
                assert_eq!(model_io::to_bytes(&rbm).unwrap(), fs::read(&path).unwrap());
            }
        }
    }
}

#[test]
fn header_holds_exactly_the_documented_keys() {
    let cases = [
        (VisibleUnit::Bernoulli, HiddenUnit::Nrelu, true),
        (VisibleUnit::Gaussian, HiddenUnit::binomial_of::<5>(), false),
        (VisibleUnit::Gaussian, HiddenUnit::Ssu, true),
    ];
    for (visible, hidden, std) in cases {
        let (v, h) = (6, 4);
        let rbm = model(v, h, visible, hidden, std);
        let bytes = model_io::to_bytes(&rbm).unwrap();
        let (header, data) = split(&bytes);

        let mut want: HashMap<&str, String> = HashMap::from([
            ("format", "nrelu-rbm".to_owned()),
            ("format_version", "1".to_owned()),
            ("visible", visible.to_string()),
            ("hidden", hidden.to_string()),
            (
                "input_map",
                if std { "standardize" } else { "none" }.to_owned(),
            ),
            ("data_crc32", format!("{:08x}", crc32fast::hash(data))),
        ]);
        if hidden == HiddenUnit::Nrelu {
            want.insert("nrelu_noise", "variance=sigmoid(x)".to_owned());
        }
        let meta: HashMap<&str, String> = header["__metadata__"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(meta, want);

        let mut tensors: Vec<(&str, Vec<usize>)> = vec![
            ("weights", vec![v, h]),
            ("visible_bias", vec![v]),
            ("hidden_bias", vec![h]),
        ];
        if std {
            tensors.push(("input_mean", vec![v]));
            tensors.push(("input_std", vec![v]));
        }
        assert_eq!(header.len(), tensors.len() + 1, "{header:?}");
        for (name, shape) in tensors {
            let t = &header[name];
            assert_eq!(t["dtype"], "F32", "{name}");
            let got: Vec<usize> = t["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(got, shape, "{name}");
            let off = t["data_offsets"].as_array().unwrap();
            let (s, e) = (
                off[0].as_u64().unwrap() as usize,
                off[1].as_u64().unwrap() as usize,
            );
            let values: Vec<f32> = data[s..e]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            let stored: &[f32] = match name {
                "weights" => rbm.weights(),
                "visible_bias" => rbm.visible_bias(),
                "hidden_bias" => rbm.hidden_bias(),
                "input_mean" => rbm.standardization().unwrap().mean(),
                _ => rbm.standardization().unwrap().std(),
            };
            assert_eq!(
                bits(&values),
                bits(stored),
                "{name} is little-endian, row-major"
            );
        }
    }
}

/// The `format_version` and `nrelu_mean` values in a file's header.
fn version_and_mean(bytes: &[u8], prefix: &str) -> (String, Option<String>) {
    let (header, _) = split(bytes);
    let meta = header["__metadata__"].as_object().unwrap();
    let get = |k: &str| meta.get(k).map(|v| v.as_str().unwrap().to_owned());
    (
        get("format_version").unwrap(),
        get(&format!("{prefix}nrelu_mean")),
    )
}

#[test]
fn an_ssu_mean_is_stored_and_makes_the_file_version_2() {
    let mut rbm = model(6, 4, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, true);
    let bytes = model_io::to_bytes(&rbm).unwrap();
    // The default rule is not written: the file is what version 1 wrote.
    assert_eq!(version_and_mean(&bytes, ""), ("1".into(), None));

    rbm.set_nrelu_mean(NreluMean::Ssu).unwrap();
    let bytes = model_io::to_bytes(&rbm).unwrap();
    // Version 2, so that a reader that predates the key refuses the file
    // rather than read these units as max(0, x).
    assert_eq!(
        version_and_mean(&bytes, ""),
        ("2".into(), Some("ssu".into()))
    );
    let back = model_io::from_bytes(&bytes, Path::new("m")).unwrap();
    assert_eq!(back.nrelu_mean(), NreluMean::Ssu);
    assert_bit_identical(&rbm, &back);
    let v = awkward(3 * 6, 7)
        .iter()
        .map(|x| x.abs().min(1.0))
        .collect::<Vec<_>>();
    assert_eq!(
        bits(&back.features(&v).unwrap()),
        bits(&rbm.features(&v).unwrap())
    );

    let binary = model(6, 4, VisibleUnit::Bernoulli, HiddenUnit::Bernoulli, false);
    let bytes = model_io::to_bytes(&binary).unwrap();
    assert_eq!(version_and_mean(&bytes, ""), ("1".into(), None));

    // In a file of several layers, one SSU-mean layer makes it version 2.
    let mut file = ModelFile::new();
    file.insert_layer("layer0.", &binary).unwrap();
    let mut top = model(4, 3, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, false);
    top.set_nrelu_mean(NreluMean::Ssu).unwrap();
    file.insert_layer("layer1.", &top).unwrap();
    let bytes = file.to_bytes().unwrap();
    assert_eq!(
        version_and_mean(&bytes, "layer1."),
        ("2".into(), Some("ssu".into()))
    );
    let back = ModelFile::from_bytes(&bytes, Path::new("s")).unwrap();
    assert_eq!(back.layer("layer1.").unwrap().nrelu_mean(), NreluMean::Ssu);
    assert_eq!(back.layer("layer0.").unwrap().nrelu_mean(), NreluMean::Relu);
}

#[test]
fn same_model_gives_same_bytes() {
    let rbm = model(9, 5, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, true);
    let first = model_io::to_bytes(&rbm).unwrap();
    for _ in 0..20 {
        // The reference writer's metadata map is a HashMap with a new
        // random order per instance; the bytes must not depend on it.
        assert_eq!(model_io::to_bytes(&rbm).unwrap(), first);
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    model_io::save(&rbm, &a).unwrap();
    model_io::save(&rbm, &b).unwrap();
    assert_eq!(fs::read(a).unwrap(), fs::read(b).unwrap());
}

#[test]
fn every_truncation_is_an_error() {
    let rbm = model(5, 3, VisibleUnit::Gaussian, HiddenUnit::Nrelu, true);
    let bytes = model_io::to_bytes(&rbm).unwrap();
    let path = Path::new("cut.safetensors");
    for len in 0..bytes.len() {
        let res = model_io::from_bytes(&bytes[..len], path);
        assert!(
            matches!(res, Err(RbmError::InvalidModel { .. })),
            "cut at {len}: {res:?}"
        );
    }
    // One byte too many is damage too.
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(model_io::from_bytes(&longer, path).is_err());

    // Through a file, the message names the file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.safetensors");
    fs::write(&file, &bytes[..bytes.len() - 3]).unwrap();
    let err = model_io::load(&file).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("invalid model {}: ", file.display())),
        "{err}"
    );
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn every_header_byte_flip_is_an_error() {
    let rbm = model(
        4,
        3,
        VisibleUnit::Bernoulli,
        HiddenUnit::binomial_of::<3>(),
        false,
    );
    let bytes = model_io::to_bytes(&rbm).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    for i in 0..8 + n {
        for mask in [0xff, 0x80] {
            let mut bad = bytes.clone();
            bad[i] ^= mask;
            let res = model_io::from_bytes(&bad, Path::new("flip"));
            assert!(res.is_err(), "byte {i} ^ {mask:#x} loaded: {res:?}");
        }
    }
}

#[test]
fn data_corruption_is_caught_by_the_checksum() {
    let rbm = model(4, 3, VisibleUnit::Bernoulli, HiddenUnit::Ssu, true);
    let bytes = model_io::to_bytes(&rbm).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    for i in 8 + n..bytes.len() {
        for bit in [0, 3, 7] {
            let mut bad = bytes.clone();
            bad[i] ^= 1 << bit;
            let reason = invalid_reason(model_io::from_bytes(&bad, Path::new("x")));
            assert!(reason.contains("corrupted"), "byte {i}: {reason}");
        }
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let valid = model_io::to_bytes(&model(
        3,
        2,
        VisibleUnit::Bernoulli,
        HiddenUnit::Nrelu,
        false,
    ))
    .unwrap();
    for round in 0..2000 {
        let bytes: Vec<u8> = if round % 2 == 0 {
            let len = (next() % 300) as usize;
            (0..len).map(|_| next() as u8).collect()
        } else {
            // A valid file with a few random bytes overwritten.
            let mut b = valid.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() as usize) % b.len();
                b[i] = next() as u8;
            }
            b
        };
        // Any outcome but a panic is fine; a successful load must be a
        // valid model.
        if let Ok(rbm) = model_io::from_bytes(&bytes, Path::new("random")) {
            assert!(rbm.weights().iter().all(|w| w.is_finite()));
        }
    }
    // Plausible-looking length fields with nothing behind them.
    for n in [0u64, 1, 8, 1 << 20, u64::MAX] {
        let mut b = n.to_le_bytes().to_vec();
        b.extend_from_slice(b"{}");
        assert!(model_io::from_bytes(&b, Path::new("len")).is_err());
    }
}

/// A tensor for hand-made files.
struct T {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &T {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn f32s(shape: &[usize], values: &[f32]) -> T {
    T {
        dtype: Dtype::F32,
        shape: shape.to_vec(),
        data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// A hand-made valid file (as another tool would write it: no checksum),
/// V = 3, H = 2, NReLU, standardised; `edit` changes it first.
fn hand_made(edit: impl FnOnce(&mut HashMap<String, T>, &mut HashMap<String, String>)) -> Vec<u8> {
    let mut tensors = HashMap::from([
        (
            "weights".to_owned(),
            f32s(&[3, 2], &[0.1, -0.2, 0.3, 0.0, 1.5, -1.0]),
        ),
        ("visible_bias".to_owned(), f32s(&[3], &[0.0, 0.5, -0.5])),
        ("hidden_bias".to_owned(), f32s(&[2], &[-1.0, 1.0])),
        ("input_mean".to_owned(), f32s(&[3], &[1.0, 2.0, 3.0])),
        ("input_std".to_owned(), f32s(&[3], &[1.0, 0.5, 4.0])),
    ]);
    let mut meta: HashMap<String, String> = [
        ("format", "nrelu-rbm"),
        ("format_version", "1"),
        ("visible", "gaussian"),
        ("hidden", "nrelu"),
        ("nrelu_noise", "variance=sigmoid(x)"),
        ("input_map", "standardize"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    edit(&mut tensors, &mut meta);
    let meta = (!meta.is_empty()).then_some(meta);
    safetensors::serialize(tensors.iter(), meta).unwrap()
}

#[test]
fn files_from_other_writers_load() {
    let rbm = model_io::from_bytes(&hand_made(|_, _| {}), Path::new("h")).unwrap();
    assert_eq!(rbm.visible(), VisibleUnit::Gaussian);
    assert_eq!(rbm.hidden(), HiddenUnit::Nrelu);
    // Without `nrelu_mean`, NReLU units read out as max(0, x); the key may
    // also say so, or ask for the SSU mean, in either version.
    assert_eq!(rbm.nrelu_mean(), NreluMean::Relu);
    for (version, mean, want) in [
        ("1", "relu", NreluMean::Relu),
        ("2", "relu", NreluMean::Relu),
        ("2", "ssu", NreluMean::Ssu),
    ] {
        let bytes = hand_made(|_, m| {
            m.insert("format_version".into(), version.into());
            m.insert("nrelu_mean".into(), mean.into());
        });
        let rbm = model_io::from_bytes(&bytes, Path::new("h")).unwrap();
        assert_eq!(rbm.nrelu_mean(), want, "{version} {mean}");
    }
    assert_eq!(rbm.weights(), [0.1, -0.2, 0.3, 0.0, 1.5, -1.0]);
    let s = rbm.standardization().unwrap();
    assert_eq!(
        (s.mean(), s.std()),
        (&[1.0, 2.0, 3.0][..], &[1.0, 0.5, 4.0][..])
    );

    // No input map: the input tensors are absent.
    let bytes = hand_made(|t, m| {
        t.remove("input_mean");
        t.remove("input_std");
        m.insert("input_map".into(), "none".into());
        m.insert("hidden".into(), "binomial:3".into());
        m.remove("nrelu_noise");
    });
    let rbm = model_io::from_bytes(&bytes, Path::new("h")).unwrap();
    assert!(rbm.standardization().is_none());
    assert_eq!(rbm.hidden(), HiddenUnit::binomial_of::<3>());
}

type Edit = Box<dyn FnOnce(&mut HashMap<String, T>, &mut HashMap<String, String>)>;

fn set(key: &'static str, value: &'static str) -> Edit {
    Box::new(move |_, m| {
        m.insert(key.into(), value.into());
    })
}

fn unset(key: &'static str) -> Edit {
    Box::new(move |_, m| {
        m.remove(key);
    })
}

fn tensor(name: &'static str, t: Option<T>) -> Edit {
    Box::new(move |ts, _| match t {
        Some(t) => {
            ts.insert(name.into(), t);
        }
        None => {
            ts.remove(name);
        }
    })
}

#[test]
fn every_invalid_file_is_a_precise_error() {
    let nan_weights = f32s(&[3, 2], &[0.0, 0.0, 0.0, f32::NAN, 0.0, 0.0]);
    let cases: Vec<(Edit, &str)> = vec![
        (
            tensor(
                "weights",
                Some(T {
                    dtype: Dtype::F64,
                    shape: vec![3, 2],
                    data: vec![0; 48],
                }),
            ),
            "tensor 'weights' has dtype F64, expected F32",
        ),
        (
            tensor(
                "hidden_bias",
                Some(T {
                    dtype: Dtype::I32,
                    shape: vec![2],
                    data: vec![0; 8],
                }),
            ),
            "tensor 'hidden_bias' has dtype I32, expected F32",
        ),
        (
            tensor("weights", Some(f32s(&[6], &[0.0; 6]))),
            "tensor 'weights' has shape [6], expected [visible units, hidden units]",
        ),
        (
            tensor("weights", Some(f32s(&[1, 3, 2], &[0.0; 6]))),
            "tensor 'weights' has shape [1, 3, 2]",
        ),
        (
            tensor("weights", Some(f32s(&[0, 2], &[]))),
            "both at least 1",
        ),
        (
            tensor("visible_bias", Some(f32s(&[2], &[0.0; 2]))),
            "tensor 'visible_bias' has shape [2], expected [3] (3 visible units, from 'weights')",
        ),
        (
            tensor("hidden_bias", Some(f32s(&[3], &[0.0; 3]))),
            "tensor 'hidden_bias' has shape [3], expected [2] (2 hidden units, from 'weights')",
        ),
        (
            tensor("input_std", Some(f32s(&[3, 1], &[1.0; 3]))),
            "tensor 'input_std' has shape [3, 1], expected [3]",
        ),
        (
            tensor("weights", Some(nan_weights)),
            "tensor 'weights' has a non-finite value (NaN) at row 2, column 2 (from 1)",
        ),
        (
            tensor("visible_bias", Some(f32s(&[3], &[0.0, f32::INFINITY, 0.0]))),
            "tensor 'visible_bias' has a non-finite value (inf) at element 2",
        ),
        (
            tensor("input_std", Some(f32s(&[3], &[1.0, 0.0, 1.0]))),
            "tensor 'input_std' has a non-positive standard deviation (0) at element 2",
        ),
        (
            tensor("input_std", Some(f32s(&[3], &[1.0, 1.0, -2.0]))),
            "non-positive standard deviation (-2) at element 3",
        ),
        (
            tensor("hidden_bias", None),
            "tensor 'hidden_bias' is missing",
        ),
        (tensor("weights", None), "tensor 'weights' is missing"),
        (tensor("input_mean", None), "tensor 'input_mean' is missing"),
        (
            tensor("extra", Some(f32s(&[1], &[0.0]))),
            "unexpected tensor 'extra'",
        ),
        (
            set("hidden", "relu"),
            "metadata 'hidden': unknown unit 'relu' (valid units: bernoulli, nrelu, ssu, binomial:K)",
        ),
        (
            set("hidden", "binomial:0"),
            "metadata 'hidden': unit 'binomial:0'",
        ),
        (
            set("visible", "poisson"),
            "metadata 'visible' = 'poisson' is not a visible unit",
        ),
        (unset("visible"), "metadata 'visible' is missing"),
        (unset("hidden"), "metadata 'hidden' is missing"),
        (unset("input_map"), "metadata 'input_map' is missing"),
        (
            set("input_map", "whiten"),
            "metadata 'input_map' = 'whiten' is unknown",
        ),
        (
            set("input_map", "none"),
            "tensor 'input_mean' is present but 'input_map' is none",
        ),
        (unset("nrelu_noise"), "metadata 'nrelu_noise' is missing"),
        (
            set("nrelu_noise", "std=sigmoid(x)"),
            "metadata 'nrelu_noise' = 'std=sigmoid(x)' is not supported",
        ),
        (unset("format"), "metadata 'format' is missing"),
        (
            set("format", "keras"),
            "metadata 'format' is 'keras', expected 'nrelu-rbm'",
        ),
        (
            unset("format_version"),
            "metadata 'format_version' is missing",
        ),
        (
            set("format_version", "3"),
            "format_version '3' is not supported (this program reads versions 1 and 2)",
        ),
        (
            set("nrelu_mean", "ssu"),
            "metadata 'nrelu_mean' = 'ssu' needs format_version 2",
        ),
        (
            // The metadata is checked before the tensors: the bad mean is
            // reported, not the NaN weight.
            Box::new(
                |t: &mut HashMap<String, T>, m: &mut HashMap<String, String>| {
                    m.insert("nrelu_mean".into(), "softplus".into());
                    t.insert(
                        "weights".into(),
                        f32s(&[3, 2], &[0.0, 0.0, 0.0, f32::NAN, 0.0, 0.0]),
                    );
                },
            ),
            "metadata 'nrelu_mean': unknown NReLU mean 'softplus'",
        ),
        (
            set("nrelu_mean", "softplus"),
            "metadata 'nrelu_mean': unknown NReLU mean 'softplus' (valid means: relu, ssu)",
        ),
        (
            Box::new(|_, m: &mut HashMap<String, String>| {
                m.insert("hidden".into(), "ssu".into());
                m.remove("nrelu_noise");
                m.insert("nrelu_mean".into(), "relu".into());
            }),
            "metadata 'nrelu_mean' = 'relu' is set, but the hidden units are ssu, not nrelu",
        ),
        (
            set("data_crc32", "00000000"),
            "the tensor data is corrupted",
        ),
        (
            set("data_crc32", "xyz"),
            "metadata 'data_crc32' = 'xyz' is not 8 hexadecimal digits",
        ),
        (
            Box::new(|_, m: &mut HashMap<String, String>| m.clear()),
            "metadata 'format' is missing",
        ),
    ];
    for (edit, needle) in cases {
        let bytes = hand_made(edit);
        let reason = invalid_reason(model_io::from_bytes(&bytes, Path::new("bad.safetensors")));
        assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
        assert!(!reason.contains('\n'), "{reason}");
    }
}

#[test]
fn not_a_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.safetensors");
    assert!(matches!(model_io::load(&missing), Err(RbmError::Io { .. })));
    // A .npy file (the `npy` writer comes with the `cli` feature).
    #[cfg(feature = "cli")]
    {
        let npy = dir.path().join("a.npy");
        fs::write(
            &npy,
            nrelu_rbm::npy::write_f32_1d(Vec::new(), &[1.0; 10]).unwrap(),
        )
        .unwrap();
        let reason = invalid_reason(model_io::load(&npy));
        assert!(reason.contains("not a safetensors file"), "{reason}");
    }
    let json_garbage = [&16u64.to_le_bytes()[..], b"[1, 2, 3]       "].concat();
    let reason = invalid_reason(model_io::from_bytes(&json_garbage, Path::new("j")));
    assert!(reason.contains("header is not valid"), "{reason}");
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn failed_saves_leave_existing_files_untouched() {
    let rbm = model(3, 2, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, false);
    let dir = tempfile::tempdir().unwrap();

    // Missing directory: an I/O error naming the file, nothing created.
    let missing = dir.path().join("no/such/dir/m.safetensors");
    let err = model_io::save(&rbm, &missing).unwrap_err();
    assert!(matches!(err, RbmError::Io { .. }), "{err}");
    assert!(err.to_string().contains("m.safetensors"), "{err}");
    assert!(entries(dir.path()).is_empty());

    // The target is a directory: the rename fails, the directory and its
    // contents stay, and no temporary file is left.
    let sub = dir.path().join("model.safetensors");
    fs::create_dir(&sub).unwrap();
    fs::write(sub.join("keep"), b"k").unwrap();
    assert!(model_io::save(&rbm, &sub).is_err());
    assert_eq!(entries(dir.path()), std::slice::from_ref(&sub));
    assert_eq!(entries(&sub), [sub.join("keep")]);

    // An existing model is replaced only by a complete new one.
    let path = dir.path().join("m.safetensors");
    model_io::save(&rbm, &path).unwrap();
    let other = model(3, 2, VisibleUnit::Gaussian, HiddenUnit::Ssu, true);
    model_io::save(&other, &path).unwrap();
    assert_bit_identical(&model_io::load(&path).unwrap(), &other);
    assert_eq!(entries(dir.path()).len(), 2, "no temporary file left");

    // A FIFO is refused, not replaced by a regular file (as root the same
    // rename would replace a device such as /dev/null).
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let fifo = dir.path().join("fifo.safetensors");
        if std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
        {
            let err = model_io::save(&rbm, &fifo).unwrap_err();
            assert!(err.to_string().contains("refusing to replace"), "{err}");
            assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
            fs::remove_file(&fifo).unwrap();
        }
    }

    // A directory nobody can create files in (procfs refuses even root),
    // holding an existing, writable file: the file keeps its contents.
    if cfg!(target_os = "linux") {
        let comm = Path::new("/proc/self/comm");
        if let Ok(before) = fs::read(comm) {
            assert!(model_io::save(&rbm, comm).is_err());
            assert_eq!(fs::read(comm).unwrap(), before);
        }
    }
}

#[test]
fn layers_under_prefixes() {
    let a = model(5, 4, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, true);
    let b = model(
        4,
        3,
        VisibleUnit::Gaussian,
        HiddenUnit::binomial_of::<2>(),
        false,
    );
    let mut file = ModelFile::new();
    file.insert_layer("layer0.", &a).unwrap();
    file.insert_layer("layer1.", &b).unwrap();
    file.set_metadata("layers", "2").unwrap();
    assert!(
        file.insert_layer("layer0.", &b).is_err(),
        "duplicate prefix"
    );
    for bad in ["layer0", ".", "a..", "a b.", "é."] {
        assert!(file.insert_layer(bad, &b).is_err(), "{bad:?}");
    }
    for reserved in ["format", "format_version", "data_crc32", "__metadata__"] {
        assert!(file.set_metadata(reserved, "x").is_err(), "{reserved}");
    }

    let bytes = file.to_bytes().unwrap();
    let (header, _) = split(&bytes);
    for name in ["layer0.weights", "layer0.input_std", "layer1.hidden_bias"] {
        assert!(header.contains_key(name), "{name}");
    }
    let meta = header["__metadata__"].as_object().unwrap();
    assert_eq!(meta["layer0.nrelu_noise"], "variance=sigmoid(x)");
    assert_eq!(meta["layer1.hidden"], "binomial:2");
    assert_eq!(meta["layers"], "2");

    let back = ModelFile::from_bytes(&bytes, Path::new("stack")).unwrap();
    assert_bit_identical(&back.layer("layer0.").unwrap(), &a);
    assert_bit_identical(&back.layer("layer1.").unwrap(), &b);
    assert_eq!(back.metadata()["layers"], "2");
    assert!(!back.metadata().contains_key("data_crc32"));
    let reason = invalid_reason(back.layer("layer2."));
    assert_eq!(reason, "metadata 'layer2.visible' is missing");
    // A stack is not a plain model.
    let reason = invalid_reason(model_io::from_bytes(&bytes, Path::new("stack")));
    assert_eq!(reason, "metadata 'visible' is missing");
}
