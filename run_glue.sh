#!/usr/bin/env bash
# Copyright 2026 The ALBERT Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
#
# Fine-tunes and evaluates ALBERT on the eight GLUE tasks with the ALBERT
# release's per-task hyperparameters. Per task, as the release did: one
# `python -m albert.run_classifier --do_train` command, then one with
# `--do_eval --do_predict`, writing to $OUTPUT_DIR/<task>.
#
# Usage:
#   GLUE_DIR=glue ALBERT_CONFIG=albert_base/albert_config.json \
#   SPM_MODEL=albert_base/30k-clean.model \
#   INIT_CHECKPOINT=albert_base/model.ckpt-best OUTPUT_DIR=glue_out \
#   bash run_glue.sh [--dry-run]
#
# Environment:
#   GLUE_DIR                  data root with one folder per task (SST-2,
#                             MNLI, CoLA, ...); passed as --data_dir.
#   OUTPUT_DIR                output root; each task writes OUTPUT_DIR/<task>.
#   INIT_CHECKPOINT           pretrained checkpoint prefix, or
#   ALBERT_HUB_MODULE_HANDLE  a TF-Hub module (path or URL): exactly one.
#                             Neither is refused unless ALLOW_RANDOM_INIT=1.
#   ALBERT_CONFIG             albert_config.json. Required unless a hub module
#                             is given (the module holds the model).
#   SPM_MODEL                 sentencepiece model, passed as --spm_model_file
#                             and, as the release did, --vocab_file. Required
#                             unless a hub module is given (its
#                             tokenization_info names the tokenizer).
#   TASKS                     space-separated subset, e.g. "RTE MRPC" (any
#                             case); runs in the order given. Default: all
#                             eight, in the release's order.
#   PYTHON                    interpreter (default: python).
#   DRY_RUN=1 or --dry-run    print the commands (one per line, shell-quoted)
#                             instead of running them.
#
# --task_name gets the release's spelling (SST-2, CoLA, STS-B, ...), which is
# also the GLUE folder name and the output folder name; run_classifier
# matches task names case-insensitively.
set -euo pipefail

ALBERT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The release's per-task settings:
# task warmup_step learning_rate train_step save_checkpoints_steps batch_size
TASK_TABLE=(
  "SST-2 1256 1e-5 20935 100 32"
  "MNLI 1000 3e-5 10000 100 128"
  "CoLA 320 1e-5 5336 100 16"
  "QNLI 1986 1e-5 33112 200 32"
  "QQP 1000 5e-5 14000 100 128"
  "RTE 200 3e-5 800 100 32"
  "STS-B 214 2e-5 3598 100 16"
  "MRPC 200 2e-5 800 100 32"
)
MAX_SEQ_LENGTH=512
OPTIMIZER=adamw

die() {
  echo "run_glue.sh: error: $*" >&2
  exit 1
}

usage() {
  sed -n '/^# Fine-tunes/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

dry_run="${DRY_RUN:-0}"
case "${1:-}" in
  --dry-run) dry_run=1; shift ;;
  -h|--help) usage; exit 0 ;;
esac
[ "$#" -eq 0 ] || die "unexpected argument(s): $* (the only option is --dry-run; settings come from environment variables, see --help)"
case "$dry_run" in
  0|1) ;;
  *) die "DRY_RUN must be 0 or 1, got '$dry_run'" ;;
esac

is_remote() {
  case "$1" in
    *://*) return 0 ;;
    *) return 1 ;;
  esac
}

# Missing inputs are collected and reported together: they stop a real run
# before any training, while a dry run only warns, so commands can be
# previewed before the data is in place.
problems=()
missing() {
  problems+=("$*")
}

require_var() {
  local name="$1" why="$2"
  [ -n "${!name:-}" ] || die "$name is not set: $why"
}

require_var GLUE_DIR "the GLUE data root (one folder per task)"
require_var OUTPUT_DIR "the output root (each task writes \$OUTPUT_DIR/<task>)"

init_checkpoint="${INIT_CHECKPOINT:-}"
hub_module="${ALBERT_HUB_MODULE_HANDLE:-}"
if [ -n "$init_checkpoint" ] && [ -n "$hub_module" ]; then
  die "INIT_CHECKPOINT and ALBERT_HUB_MODULE_HANDLE are both set; set exactly one (the encoder comes from one of them)"
fi
if [ -z "$init_checkpoint" ] && [ -z "$hub_module" ]; then
  if [ "${ALLOW_RANDOM_INIT:-0}" != 1 ]; then
    die "neither INIT_CHECKPOINT nor ALBERT_HUB_MODULE_HANDLE is set; set one of them (ALLOW_RANDOM_INIT=1 fine-tunes from random weights instead)"
  fi
  {
    echo "************************************************************************"
    echo "run_glue.sh: WARNING: neither INIT_CHECKPOINT nor ALBERT_HUB_MODULE_HANDLE"
    echo "is set (ALLOW_RANDOM_INIT=1): every task fine-tunes from RANDOM weights."
    echo "Scores will be far below a pretrained model's."
    echo "************************************************************************"
  } >&2
fi

if [ -z "$hub_module" ]; then
  require_var ALBERT_CONFIG "albert_config.json of the model (needed without ALBERT_HUB_MODULE_HANDLE)"
  require_var SPM_MODEL "the sentencepiece model, e.g. 30k-clean.model (needed without ALBERT_HUB_MODULE_HANDLE)"
fi
albert_config="${ALBERT_CONFIG:-}"
spm_model="${SPM_MODEL:-}"
python="${PYTHON:-python}"

# Resolve TASKS against the table, case-insensitively, keeping the order
# given and dropping repeats.
selected=()
if [ -n "${TASKS:-}" ]; then
  for wanted in $TASKS; do
    found=""
    for row in "${TASK_TABLE[@]}"; do
      name="${row%% *}"
      if [ "${name,,}" = "${wanted,,}" ]; then
        found="$name"
      fi
    done
    if [ -z "$found" ]; then
      known=""
      for row in "${TASK_TABLE[@]}"; do known="$known ${row%% *}"; done
      die "TASKS names unknown task '$wanted'; known:$known"
    fi
    for done_name in ${selected[@]+"${selected[@]}"}; do
      [ "$done_name" != "$found" ] || continue 2
    done
    selected+=("$found")
  done
  [ "${#selected[@]}" -gt 0 ] || die "TASKS is set but names no task"
else
  for row in "${TASK_TABLE[@]}"; do selected+=("${row%% *}"); done
fi

# Local inputs must exist; remote ones (gs://, https://) are left to
# TensorFlow to open.
if ! is_remote "$GLUE_DIR"; then
  if [ ! -d "$GLUE_DIR" ]; then
    missing "GLUE_DIR $GLUE_DIR is not a directory"
  else
    for task in "${selected[@]}"; do
      [ -d "$GLUE_DIR/$task" ] || missing "GLUE_DIR has no $task folder: $GLUE_DIR/$task not found"
    done
  fi
fi
for pair in "ALBERT_CONFIG:$albert_config" "SPM_MODEL:$spm_model"; do
  name="${pair%%:*}"
  path="${pair#*:}"
  if [ -n "$path" ] && ! is_remote "$path" && [ ! -f "$path" ]; then
    missing "$name file not found: $path"
  fi
done
if [ -n "$init_checkpoint" ] && ! is_remote "$init_checkpoint"; then
  if [ ! -e "$init_checkpoint.index" ] && [ ! -d "$init_checkpoint" ]; then
    missing "INIT_CHECKPOINT not found: $init_checkpoint (expected a checkpoint prefix with $init_checkpoint.index beside it)"
  fi
fi
if [ -n "$hub_module" ] && ! is_remote "$hub_module" && [ ! -d "$hub_module" ]; then
  missing "ALBERT_HUB_MODULE_HANDLE is neither a URL nor a directory: $hub_module"
fi

for problem in ${problems[@]+"${problems[@]}"}; do
  if [ "$dry_run" = 1 ]; then
    echo "run_glue.sh: warning: $problem (a real run would stop here)" >&2
  else
    echo "run_glue.sh: error: $problem" >&2
  fi
done
if [ "${#problems[@]}" -gt 0 ] && [ "$dry_run" != 1 ]; then
  exit 1
fi

if [ "$dry_run" != 1 ]; then
  command -v "$python" >/dev/null 2>&1 || die "PYTHON '$python' is not a command"
  # Lets `python -m albert.run_classifier` work from a checkout without
  # installing the package.
  export PYTHONPATH="$ALBERT_ROOT${PYTHONPATH:+:$PYTHONPATH}"
fi

run() {
  if [ "$dry_run" = 1 ]; then
    printf '%q ' "$@" | sed 's/ $//'
    echo
  else
    {
      printf '+ '
      printf '%q ' "$@"
      echo
    } >&2
    "$@"
  fi
}

run_task() {
  local task="$1" warmup_step="$2" learning_rate="$3" train_step="$4"
  local save_checkpoints_steps="$5" train_batch_size="$6"
  local output_dir="$OUTPUT_DIR/$task"
  local common=(
    "--data_dir=$GLUE_DIR"
    "--output_dir=$output_dir"
  )
  if [ -n "$init_checkpoint" ]; then
    common+=("--init_checkpoint=$init_checkpoint")
  fi
  if [ -n "$hub_module" ]; then
    common+=("--albert_hub_module_handle=$hub_module")
  fi
  if [ -n "$albert_config" ]; then
    common+=("--albert_config_file=$albert_config")
  fi
  if [ -n "$spm_model" ]; then
    common+=("--vocab_file=$spm_model" "--spm_model_file=$spm_model")
  fi
  common+=(
    "--do_lower_case"
    "--max_seq_length=$MAX_SEQ_LENGTH"
    "--optimizer=$OPTIMIZER"
    "--task_name=$task"
    "--warmup_step=$warmup_step"
    "--learning_rate=$learning_rate"
    "--train_step=$train_step"
    "--save_checkpoints_steps=$save_checkpoints_steps"
    "--train_batch_size=$train_batch_size"
  )
  if [ "$dry_run" != 1 ] && ! is_remote "$output_dir"; then
    mkdir -p "$output_dir"
  fi
  run "$python" -m albert.run_classifier "${common[@]}" \
      --do_train --nodo_eval --nodo_predict
  run "$python" -m albert.run_classifier "${common[@]}" \
      --nodo_train --do_eval --do_predict
}

for task in "${selected[@]}"; do
  for row in "${TASK_TABLE[@]}"; do
    if [ "${row%% *}" = "$task" ]; then
      # Word splitting of the table row is intended: it holds six fields.
      # shellcheck disable=SC2086
      run_task $row
    fi
  done
done
