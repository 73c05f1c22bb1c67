#!/usr/bin/env python
"""Times Hugging Face ALBERT (transformers on PyTorch) on the CPU.

This is the PyTorch counterpart of ``python -m albert.benchmark``: same model
config file, same input shapes, same step definitions, same timing rules, so
the two can be compared side by side on one machine.

It runs in its own virtual environment (not the project's .venv), e.g.::

  python3.11 -m venv /tmp/hfvenv
  /tmp/hfvenv/bin/pip install torch==2.13.0
  /tmp/hfvenv/bin/pip install transformers numpy safetensors
  /tmp/hfvenv/bin/python scripts/benchmark_hf.py \
      --albert_config_file=/tmp/albert_base_v2.json --mode=both

Nothing is downloaded: the models are built from an ``AlbertConfig`` with
random weights.

Steps:
  train: AlbertForPreTraining in train() mode; loss = masked-LM + sentence
    order (HF's own loss; its MLM head computes logits at every position);
    backward; clip_grad_norm_(1.0); AdamW(lr=1e-4, weight_decay=0.01,
    eps=1e-6) step; zero_grad.
  infer: AlbertModel in eval() mode under torch.inference_mode(); forward,
    returning the sequence output.

Timing: ``--warmup_steps`` untimed steps, then ``--num_steps`` steps timed
with time.perf_counter. The last line printed is one JSON object.
"""

import argparse
import contextlib
import json
import re
import sys
import time

import torch
import transformers
from transformers import AlbertConfig, AlbertForPreTraining, AlbertModel

# Keys of the release's albert_config.json that map one to one onto AlbertConfig.
_CONFIG_KEYS = (
    "vocab_size",
    "embedding_size",
    "hidden_size",
    "num_hidden_layers",
    "num_hidden_groups",
    "num_attention_heads",
    "intermediate_size",
    "inner_group_num",
    "hidden_act",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "max_position_embeddings",
    "type_vocab_size",
    "initializer_range",
)

# The release's "gelu" is the tanh approximation, which HF calls "gelu_new".
_ACT_MAP = {"gelu": "gelu_new"}


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--albert_config_file", required=True,
                 help="ALBERT JSON config in the release's format.")
  p.add_argument("--max_seq_length", type=int, default=128)
  p.add_argument("--batch_size", type=int, default=8)
  p.add_argument("--max_predictions_per_seq", type=int, default=20)
  p.add_argument("--num_steps", type=int, default=10)
  p.add_argument("--warmup_steps", type=int, default=3)
  p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                 help="bf16 = torch.autocast('cpu', bfloat16) over fp32 "
                 "weights.")
  p.add_argument("--mode", choices=("train", "infer", "both"), default="both")
  p.add_argument("--threads", type=int, default=None,
                 help="torch.set_num_threads; default: torch's default.")
  args = p.parse_args(argv)
  if args.max_predictions_per_seq > args.max_seq_length:
    p.error("--max_predictions_per_seq must be <= --max_seq_length")
  if args.num_steps < 1 or args.warmup_steps < 0 or args.batch_size < 1:
    p.error("--num_steps >= 1, --warmup_steps >= 0, --batch_size >= 1")
  return args


def load_config(path):
  with open(path) as f:
    raw = json.load(f)
  kwargs = {}
  for key in _CONFIG_KEYS:
    if key in raw:
      kwargs[key] = raw[key]
  if "hidden_act" in kwargs:
    kwargs["hidden_act"] = _ACT_MAP.get(kwargs["hidden_act"],
                                        kwargs["hidden_act"])
  return AlbertConfig(**kwargs)


def num_threads_from_parallel_info():
  info = torch.__config__.parallel_info()
  m = re.search(r"at::get_num_threads\(\)\s*:\s*(\d+)", info)
  return int(m.group(1)) if m else torch.get_num_threads()


def autocast_ctx(precision):
  if precision == "bf16":
    return torch.autocast("cpu", dtype=torch.bfloat16)
  return contextlib.nullcontext()


def make_inputs(config, batch_size, seq_len, gen):
  input_ids = torch.randint(0, config.vocab_size, (batch_size, seq_len),
                            generator=gen, dtype=torch.long)
  attention_mask = torch.ones(batch_size, seq_len, dtype=torch.long)
  token_type_ids = torch.zeros(batch_size, seq_len, dtype=torch.long)
  token_type_ids[:, seq_len // 2:] = 1
  return input_ids, attention_mask, token_type_ids


def make_labels(config, batch_size, seq_len, max_pred, gen):
  """Exactly max_pred distinct labelled positions per example, -100 elsewhere."""
  labels = torch.full((batch_size, seq_len), -100, dtype=torch.long)
  positions = torch.rand(batch_size, seq_len, generator=gen).argsort(dim=1)
  positions = positions[:, :max_pred]
  targets = torch.randint(0, config.vocab_size, (batch_size, max_pred),
                          generator=gen, dtype=torch.long)
  labels.scatter_(1, positions, targets)
  sop = torch.randint(0, 2, (batch_size,), generator=gen, dtype=torch.long)
  return labels, sop


def time_steps(step_fn, warmup_steps, num_steps):
  for _ in range(warmup_steps):
    step_fn()
  start = time.perf_counter()
  for _ in range(num_steps):
    step_fn()
  return time.perf_counter() - start


def bench_train(config, args, gen):
  model = AlbertForPreTraining(config)
  model.train()
  optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4,
                                weight_decay=0.01, eps=1e-6)
  input_ids, attention_mask, token_type_ids = make_inputs(
      config, args.batch_size, args.max_seq_length, gen)
  labels, sop = make_labels(config, args.batch_size, args.max_seq_length,
                            args.max_predictions_per_seq, gen)
  losses = []

  def step():
    with autocast_ctx(args.precision):
      out = model(input_ids=input_ids, attention_mask=attention_mask,
                  token_type_ids=token_type_ids, labels=labels,
                  sentence_order_label=sop)
    loss = out.loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    losses.append(loss.detach())

  elapsed = time_steps(step, args.warmup_steps, args.num_steps)
  last_loss = float(losses[-1]) if losses else float("nan")
  attn = getattr(model.config, "_attn_implementation", None)
  return elapsed, last_loss, attn


def bench_infer(config, args, gen):
  model = AlbertModel(config, add_pooling_layer=True)
  model.eval()
  input_ids, attention_mask, token_type_ids = make_inputs(
      config, args.batch_size, args.max_seq_length, gen)
  shape = []

  def step():
    with torch.inference_mode(), autocast_ctx(args.precision):
      out = model(input_ids=input_ids, attention_mask=attention_mask,
                  token_type_ids=token_type_ids)
      seq = out.last_hidden_state
    if not shape:
      shape.append(tuple(seq.shape))
    return seq

  elapsed = time_steps(step, args.warmup_steps, args.num_steps)
  attn = getattr(model.config, "_attn_implementation", None)
  return elapsed, shape[0] if shape else None, attn


def main(argv=None):
  args = parse_args(argv)
  if args.threads is not None:
    torch.set_num_threads(args.threads)
  torch.manual_seed(0)
  gen = torch.Generator().manual_seed(12345)
  config = load_config(args.albert_config_file)

  threads = num_threads_from_parallel_info()
  b, s, n = args.batch_size, args.max_seq_length, args.num_steps
  print("Hugging Face ALBERT benchmark (PyTorch, CPU)")
  print(f"  transformers {transformers.__version__}, torch {torch.__version__}"
        f", threads {threads}")
  print(f"  config {args.albert_config_file}: V={config.vocab_size} "
        f"E={config.embedding_size} H={config.hidden_size} "
        f"L={config.num_hidden_layers} heads={config.num_attention_heads} "
        f"I={config.intermediate_size} act={config.hidden_act}")
  print(f"  precision {args.precision}, batch {b}, seq {s}, "
        f"max_pred {args.max_predictions_per_seq}, warmup {args.warmup_steps}"
        f", timed steps {n}")

  rows = []
  result = {"train_examples_per_sec": None, "infer_examples_per_sec": None,
            "train_step_ms": None, "infer_step_ms": None}
  attn = None
  if args.mode in ("train", "both"):
    elapsed, last_loss, attn = bench_train(config, args, gen)
    result["train_examples_per_sec"] = b * n / elapsed
    result["train_step_ms"] = 1000.0 * elapsed / n
    rows.append(("train", elapsed, f"loss {last_loss:.4f}"))
  if args.mode in ("infer", "both"):
    elapsed, shape, attn = bench_infer(config, args, gen)
    result["infer_examples_per_sec"] = b * n / elapsed
    result["infer_step_ms"] = 1000.0 * elapsed / n
    rows.append(("infer", elapsed, f"out {list(shape)}"))
  if attn:
    print(f"  attention implementation: {attn}")

  print()
  print(f"{'mode':<6} {'step ms':>10} {'examples/s':>12} {'tokens/s':>12}  note")
  for mode, elapsed, note in rows:
    print(f"{mode:<6} {1000.0 * elapsed / n:>10.1f} {b * n / elapsed:>12.2f} "
          f"{b * s * n / elapsed:>12.1f}  {note}")
  print()

  summary = {
      "framework": "pytorch",
      "library": f"transformers {transformers.__version__}",
      "torch": torch.__version__,
      "precision": args.precision,
      "xla": False,
      "batch_size": b,
      "max_seq_length": s,
  }
  summary.update(result)
  print(json.dumps(summary))
  sys.stdout.flush()


if __name__ == "__main__":
  main()
