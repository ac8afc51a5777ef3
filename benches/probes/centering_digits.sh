#!/bin/sh
# Held-out log-likelihood of PCD-1 on binarised digits, with and without
# centring, over several seeds (docs/training.md, "Centring").
#
#   sh benches/probes/centering_digits.sh [SEEDS...]     (default: 7 8 9 10 11)
#   BATCH=10 sh benches/probes/centering_digits.sh ...    (mini-batches of 10)
#
# Data: data/digits.csv.gz of the shared data folder (DATA=... to override),
# the UCI digits test set (1797 rows, 64 pixels 0..16 and a label).
# Binarised as pixel > 8 (what `rbm eval --binarize 0.5` does to the
# digits' x/16 map); rows whose index is 4 mod 5 are held out (359 rows),
# the other 1438 train. Model: 64 Bernoulli visible, 500 Bernoulli hidden
# units; PCD-1, lr 0.05, 20 epochs, batch 100 (BATCH=... to override), no
# momentum, no decay.
# log Z by `rbm eval` (AIS with its default runs and betas, seed 0).
# RATE=ν sets the centring rate (default: the option's default, 0.01).
# Prints one line per seed and run: seed, centring, mean held-out
# log-likelihood (nats).
set -eu
RBM=${RBM:-target/release/rbm}
DATA=${DATA:-../shared/data/digits.csv.gz}
OUT=${OUT:-$(mktemp -d)}
SEEDS=${*:-7 8 9 10 11}
zcat "$DATA" | awk -F, -v OFS=, -v out="$OUT" '{
  row = ""
  for (i = 1; i <= 64; i++) row = row (i > 1 ? "," : "") ($i > 8 ? 1 : 0)
  if ((NR - 1) % 5 == 4) print row > (out "/test.csv"); else print row > (out "/train.csv")
}'
for seed in $SEEDS; do
  for centering in off on; do
    flag=""
    [ "$centering" = on ] && flag="--centering ${RATE:-}"
    "$RBM" train --data "$OUT/train.csv" --hidden 500 --hidden-units bernoulli \
      --pcd 1 --lr 0.05 --epochs 20 --batch ${BATCH:-100} --momentum 0 --weight-decay 0 \
      --seed "$seed" $flag --quiet --out "$OUT/m_${seed}_$centering.safetensors"
    ll=$("$RBM" eval --model "$OUT/m_${seed}_$centering.safetensors" --data "$OUT/test.csv" --json --quiet \
      | sed -n 's/.*"avg_log_likelihood": *{[^}]*"value": *\([-0-9.eE+]*\).*/\1/p; s/.*"avg_log_likelihood": *\([-0-9.eE+]*\).*/\1/p' | head -1)
    echo "$seed $centering $ll"
  done
done
