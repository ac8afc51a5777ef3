//! One gradient step with momentum and decay, fused with its finiteness
//! check.

use super::GROUP;
use super::reduce::nan_lanes;
use crate::Sgd;

#[inline(always)]
pub(super) fn apply_velocity(l: f32, w: &mut [f32], velocity: &mut [f32]) -> bool {
    let mut acc = [0f32; GROUP];
    let full = w.len() / GROUP * GROUP;
    let (wh, wt) = w.split_at_mut(full);
    let (dh, dt) = velocity.split_at_mut(full);
    for (w, d) in wh.chunks_exact_mut(GROUP).zip(dh.chunks_exact_mut(GROUP)) {
        // Local copies, as in `sgd_update`, so that the loop vectorises.
        let mut wl: [f32; GROUP] = (&*w).try_into().expect("whole group");
        let mut dl: [f32; GROUP] = (&*d).try_into().expect("whole group");
        for i in 0..GROUP {
            dl[i] -= l * wl[i];
            wl[i] += dl[i];
        }
        nan_lanes(&mut acc, &wl);
        w.copy_from_slice(&wl);
        d.copy_from_slice(&dl);
    }
    for (w, d) in wt.iter_mut().zip(dt.iter_mut()) {
        *d -= l * *w;
        *w += *d;
        acc[0] += *w * 0.0;
    }
    acc.iter().all(|a| *a == 0.0)
}

#[inline(always)]
pub(super) fn sgd_update(sgd: Sgd, w: &mut [f32], velocity: &mut [f32], g: &[f32]) -> bool {
    let Sgd {
        momentum: m,
        scale: s,
        decay: l,
    } = sgd;
    let mut acc = [0f32; GROUP];
    let full = w.len() / GROUP * GROUP;
    if velocity.is_empty() {
        let (wh, wt) = w.split_at_mut(full);
        let (gh, gt) = g.split_at(full);
        for (w, g) in wh.chunks_exact_mut(GROUP).zip(gh.chunks_exact(GROUP)) {
            // Local copies: the compiler cannot prove that slices from the
            // job do not overlap, and without that it will not vectorise.
            let mut wl: [f32; GROUP] = (&*w).try_into().expect("whole group");
            let gl: [f32; GROUP] = g.try_into().expect("whole group");
            for i in 0..GROUP {
                wl[i] += s * gl[i] - l * wl[i];
            }
            nan_lanes(&mut acc, &wl);
            w.copy_from_slice(&wl);
        }
        for (w, &g) in wt.iter_mut().zip(gt) {
            *w += s * g - l * *w;
            acc[0] += *w * 0.0;
        }
    } else {
        let (wh, wt) = w.split_at_mut(full);
        let (dh, dt) = velocity.split_at_mut(full);
        let (gh, gt) = g.split_at(full);
        for ((w, d), g) in wh
            .chunks_exact_mut(GROUP)
            .zip(dh.chunks_exact_mut(GROUP))
            .zip(gh.chunks_exact(GROUP))
        {
            let mut wl: [f32; GROUP] = (&*w).try_into().expect("whole group");
            let mut dl: [f32; GROUP] = (&*d).try_into().expect("whole group");
            let gl: [f32; GROUP] = g.try_into().expect("whole group");
            for i in 0..GROUP {
                dl[i] = m * dl[i] + s * gl[i] - l * wl[i];
                wl[i] += dl[i];
            }
            nan_lanes(&mut acc, &wl);
            w.copy_from_slice(&wl);
            d.copy_from_slice(&dl);
        }
        for ((w, d), &g) in wt.iter_mut().zip(dt.iter_mut()).zip(gt) {
            *d = m * *d + s * g - l * *w;
            *w += *d;
            acc[0] += *w * 0.0;
        }
    }
    acc.iter().all(|a| *a == 0.0)
}
