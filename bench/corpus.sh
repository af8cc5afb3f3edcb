#!/usr/bin/env bash
# Fetch a corpus of real model-zoo source code for benchmarking cnnlint.
#
# Downloads the wheels of torchvision, timm, transformers and keras from PyPI
# (no dependencies, binary wheels only), keeps only their .py files, and prints
# the model directories, one per line, on stdout. Idempotent: a package already
# unpacked is skipped. Everything lives outside the repository, in
#   ${CNNLINT_CORPUS:-$HOME/.cache/cnnlint-corpus}/<name>/
# Progress goes to stderr.
set -euo pipefail

DIR="${CNNLINT_CORPUS:-$HOME/.cache/cnnlint-corpus}"
PYTHON="${PYTHON:-python3}"

# name|pip requirement|model directory inside the unpacked wheel
PACKAGES=(
    "torchvision|torchvision==0.28.0|torchvision/models"
    "timm|timm|timm/models"
    "transformers|transformers|transformers/models"
    "keras|keras|keras/src/applications"
    # more published PyTorch model code, for the precision check (bench/corpus_check.py)
    "segmentation-models-pytorch|segmentation-models-pytorch==0.6.0|segmentation_models_pytorch"
    "kornia|kornia==0.9.0|kornia"
    "monai|monai==1.6.1|monai/networks"
)

mkdir -p "$DIR"

for entry in "${PACKAGES[@]}"; do
    IFS='|' read -r name req models <<<"$entry"
    dest="$DIR/$name"
    if [ -f "$dest/.complete" ] && [ -d "$dest/$models" ]; then
        echo "corpus: $name already present" >&2
        continue
    fi
    echo "corpus: fetching $req" >&2
    rm -rf "$dest" "$dest.partial" "$DIR/.wheels-$name"
    mkdir -p "$DIR/.wheels-$name"
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: \
        -d "$DIR/.wheels-$name" "$req" >&2
    # --only-binary=:all: picks a wheel for this platform/interpreter; take the one for $name
    norm="${name//-/_}"
    wheel="$(find "$DIR/.wheels-$name" -maxdepth 1 -iname "${norm}-*.whl" | head -n 1)"
    if [ -z "$wheel" ]; then
        echo "corpus: no wheel for $req was downloaded" >&2
        exit 1
    fi
    mkdir -p "$dest.partial"
    "$PYTHON" -m zipfile -e "$wheel" "$dest.partial"
    # keep only Python sources
    find "$dest.partial" -type f ! -name '*.py' -delete
    find "$dest.partial" -depth -type d -empty -delete
    mkdir -p "$dest.partial"
    if [ ! -d "$dest.partial/$models" ]; then
        echo "corpus: $wheel has no $models directory" >&2
        exit 1
    fi
    basename "$wheel" >"$dest.partial/.complete"
    mv "$dest.partial" "$dest"
    rm -rf "$DIR/.wheels-$name"
done

for entry in "${PACKAGES[@]}"; do
    IFS='|' read -r name req models <<<"$entry"
    echo "$DIR/$name/$models"
done
