#!/usr/bin/env bash
# Integration smoke test through the real command lines, in the spirit of the
# release's run_trivial_model_test.sh: a tiny corpus, sentencepiece model and
# config; create_pretraining_data; two steps of run_pretraining; eval.
# Usage: bash scripts/run_trivial_model_test.sh [WORK_DIR]
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

work="${1:-$(mktemp -d)}"
mkdir -p "$work"
echo "[trivial] working in $work"

python -m albert.quickstart_corpus --output_file="$work/corpus.txt" \
  --max_bytes=40000 --min_bytes=10000 --modules=collections,json,argparse,email,logging

python - "$work" <<'PY'
import json, os, sys
import sentencepiece as spm
work = sys.argv[1]
spm.SentencePieceTrainer.train(
    input=os.path.join(work, "corpus.txt"),
    model_prefix=os.path.join(work, "spm"), vocab_size=400, pad_id=0,
    unk_id=1, eos_id=-1, bos_id=-1, control_symbols="[CLS],[SEP],[MASK]",
    model_type="unigram", hard_vocab_limit=False, minloglevel=2)
vocab_size = spm.SentencePieceProcessor(
    model_file=os.path.join(work, "spm.model")).vocab_size()
config = {"vocab_size": vocab_size, "embedding_size": 8, "hidden_size": 16,
          "num_hidden_layers": 2, "num_hidden_groups": 1,
          "num_attention_heads": 2, "intermediate_size": 32,
          "inner_group_num": 1, "hidden_act": "gelu",
          "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
          "max_position_embeddings": 32, "type_vocab_size": 2,
          "initializer_range": 0.02, "down_scale_factor": 1,
          "net_structure_type": 0, "gap_size": 0, "num_memory_blocks": 0}
with open(os.path.join(work, "albert_config.json"), "w") as f:
  json.dump(config, f, indent=2)
PY

python -m albert.create_pretraining_data \
  --input_file="$work/corpus.txt" --output_file="$work/pretrain.tfrecord" \
  --spm_model_file="$work/spm.model" --vocab_file="$work/spm.vocab" \
  --do_lower_case --max_seq_length=32 --max_predictions_per_seq=5 \
  --dupe_factor=2 --num_workers=1 --albert_config_file="$work/albert_config.json"

python -m albert.run_pretraining \
  --input_file="$work/pretrain.tfrecord" --output_dir="$work/model" \
  --albert_config_file="$work/albert_config.json" --do_train --do_eval \
  --train_batch_size=4 --eval_batch_size=4 --max_seq_length=32 \
  --max_predictions_per_seq=5 --optimizer=lamb --learning_rate=0.00176 \
  --num_train_steps=2 --num_warmup_steps=1 --max_eval_steps=2 \
  --save_checkpoints_steps=1 --iterations_per_loop=1

echo "[trivial] eval results:"
cat "$work/model/eval_results.txt"
