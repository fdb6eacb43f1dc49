#!/usr/bin/env bash
# The whole default-model pipeline: data split + BPE + training (one core), ONNX export,
# int8 quantization, GGUF export, validation with onnxruntime-node, manifest.
# Usage: models/pipeline/run.sh JA_PLAYS.txt TINYSHAKESPEARE.txt [NAME] [TIME_BUDGET_S] [extra train.py flags]
# Work files (checkpoint, token ids) go to var/<NAME>-work (ignored); the model to models/<NAME>.
set -euo pipefail
ja=${1:?ja_plays.txt path}; en=${2:?tinyshakespeare.txt path}
name=${3:-kuroko-tiny}; budget=${4:-2400}; shift $(( $# < 4 ? $# : 4 ))
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/var/$name-work"; out="$root/models/$name"
# One torch thread + one BLAS thread: two threads each were 3.3x slower on 2 cores (NOTES.md),
# and the other core stays free for everyone else.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
py=/usr/bin/python3   # Debian's torch; the pyenv python on PATH has none
cd "$root/models/pipeline"
if [[ ! -f "$work/checkpoint.pt" || -n "${RETRAIN:-}" ]]; then
  $py train.py --ja "$ja" --en "$en" --out "$work" --time-budget-s "$budget" "$@"
fi
rm -rf "$out"
$py export_onnx.py "$work" "$out"
$py quantize.py "$out"
# Ship the data's provenance (sources, rights, per-work list) beside the weights.
data_dir=$(cd "$(dirname "$ja")" && pwd)
for f in README.md ja_plays.SOURCES.md; do
  [[ -f "$data_dir/$f" ]] && { cat "$data_dir/$f"; echo; } >> "$out/DATA_SOURCES.md"
done
cd "$root"
# The held-out tails, so bench:model measures perplexity on a fresh clone (public-domain text, ~65 KB).
$py -c "import sys, json; sys.path.insert(0, 'models/pipeline'); from prepare_data import prepare; print(json.dumps(prepare(sys.argv[1], sys.argv[2])[1], ensure_ascii=False))" "$ja" "$en" | gzip -9 -n > "$out/heldout.json.gz"
# GGUF for llama.cpp (the hub's gguf backend), from the fp32 ONNX file; finalize lists it in the manifest.
node bin/run-ts.js models/gguf/export-gguf.ts "$out" --type f32
node bin/run-ts.js models/pipeline/finalize.ts "$work" "$out" "$name"
du -sh "$out"
