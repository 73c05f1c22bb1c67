#!/usr/bin/env python
"""Runs albert.benchmark and its Hugging Face counterpart side by side.

One run after another on this machine (never two at once: they would share
the cores), each in its own process, then one Markdown table of what their
last JSON lines said. The README's performance table is made with it:

  bash -c 'source scripts/env.sh && python scripts/benchmark_compare.py \
      --albert_config_file=albert_base/albert_config.json \
      --hf_python=/tmp/hfvenv/bin/python'

--hf_python is a Python with torch and transformers (see the header of
scripts/benchmark_hf.py); without it only this project's rows are run.
--onnxruntime adds inference rows of the same encoder in ONNX Runtime
(fp32 and dynamic int8; `pip install .[onnx]`).
--repeats=N runs the whole set N times, one set after another, and
reports each row's median rate (and the TF / PyTorch ratio of every
set): a shared machine's speed drifts by several percent between runs.
--profile passes --profile to both benchmarks and ends with one more table:
each row's traced step by op class (albert/op_profile.py's classes, which
scripts/benchmark_hf.py uses for torch.profiler too), in ms and in % of the
row's op time, and the share outside matmuls.
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def last_json_line(command, env):
  """Runs `command`; returns the JSON object its stdout ends with."""
  proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True,
                        text=True)
  lines = proc.stdout.strip().splitlines()
  if proc.returncode != 0 or not lines:
    sys.exit("benchmark_compare: %s failed (exit %d):\n%s" %
             (" ".join(command), proc.returncode, proc.stderr[-2000:]))
  return json.loads(lines[-1])


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--albert_config_file", required=True)
  parser.add_argument("--max_seq_length", type=int, default=128)
  parser.add_argument("--batch_size", type=int, default=8)
  parser.add_argument("--num_steps", type=int, default=10)
  parser.add_argument("--warmup_steps", type=int, default=3)
  parser.add_argument("--hf_python", default=None,
                      help="Python with torch and transformers")
  parser.add_argument("--precisions", default="fp32,bf16")
  parser.add_argument("--xla", default="off,on",
                      help="XLA settings of this project's rows")
  parser.add_argument("--onnxruntime", action="store_true",
                      help="add ONNX Runtime inference rows (fp32, int8)")
  parser.add_argument("--profile", action="store_true",
                      help="add a table of each row's step by op class")
  parser.add_argument("--repeats", type=int, default=1,
                      help="run every row this many times, interleaved, "
                      "and report medians (a shared machine's speed drifts)")
  args = parser.parse_args()
  if args.repeats < 1:
    parser.error("--repeats=%d: expected at least 1" % args.repeats)
  return args


def run_rows(args, env):
  """[(row name, JSON result)]: every benchmark once, one after another."""
  common = ["--albert_config_file=%s" % args.albert_config_file,
            "--max_seq_length=%d" % args.max_seq_length,
            "--batch_size=%d" % args.batch_size,
            "--num_steps=%d" % args.num_steps,
            "--warmup_steps=%d" % args.warmup_steps, "--mode=both"]
  if args.profile:
    common.append("--profile")
  rows = []
  for precision in args.precisions.split(","):
    for xla in args.xla.split(","):
      flag = "--use_xla" if xla == "on" else "--nouse_xla"
      result = last_json_line(
          [sys.executable, "-m", "albert.benchmark",
           "--precision=%s" % precision, flag] + common, env)
      rows.append(("ALBERT (TF %s)%s" % (result["tensorflow"],
                                         ", XLA" if result["xla"] else ""),
                   result))
    if args.hf_python:
      result = last_json_line(
          [args.hf_python, os.path.join(ROOT, "scripts", "benchmark_hf.py"),
           "--precision=%s" % precision] + common, env)
      rows.append(("%s / torch %s" % (result["library"], result["torch"]),
                   result))
  if args.onnxruntime:
    infer_only = [flag for flag in common
                  if flag not in ("--mode=both", "--profile")]
    for quantize in ("none", "int8"):
      result = last_json_line(
          [sys.executable, "-m", "albert.benchmark", "--runtime=onnxruntime",
           "--quantize=%s" % quantize, "--mode=infer"] + infer_only, env)
      rows.append((result["runtime"], result))
  return rows


def median(values):
  values = sorted(value for value in values if value is not None)
  if not values:
    return None
  middle = len(values) // 2
  return (values[middle] if len(values) % 2 else
          (values[middle - 1] + values[middle]) / 2.0)


def merge_repeats(repeats):
  """One row per benchmark: median rates, and the median run's profile."""
  merged = []
  for index, (name, first) in enumerate(repeats[0]):
    results = [rows[index][1] for rows in repeats]
    result = dict(first)
    for mode in ("train", "infer"):
      key = mode + "_examples_per_sec"
      result[key] = median([r.get(key) for r in results])
      rates = [r.get(key) for r in results]
      if result[key] is not None and len(results) % 2:
        closest = results[rates.index(result[key])]
        for suffix in ("_profile", "_outside_matmul_share"):
          if mode + suffix in closest:
            result[mode + suffix] = closest[mode + suffix]
      result[mode + "_examples_per_sec_runs"] = rates
    merged.append((name, result))
  return merged


def print_ratios(repeats):
  """TF (no XLA) over PyTorch, per precision and mode, every repeat."""
  print("| ratio TF / PyTorch | %s | median |" % " | ".join(
      "run %d" % (k + 1) for k in range(len(repeats))))
  print("|---|%s---|" % ("---|" * len(repeats)))
  for precision in ("fp32", "bf16"):
    for mode in ("train", "infer"):
      key = mode + "_examples_per_sec"
      ratios = []
      for rows in repeats:
        ours = [r[key] for _, r in rows if r.get("precision") == precision
                and "framework" not in r and not r.get("xla")
                and r.get("runtime", "TensorFlow").startswith("TensorFlow")]
        theirs = [r[key] for _, r in rows if r.get("precision") == precision
                  and r.get("framework") == "pytorch"]
        if ours and theirs and ours[0] and theirs[0]:
          ratios.append(ours[0] / theirs[0])
      if ratios:
        print("| %s %s | %s | %.2fx |" % (
            precision, mode, " | ".join("%.2fx" % r for r in ratios),
            median(ratios)))


def main():
  args = parse_args()
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  repeats = [run_rows(args, env) for _ in range(args.repeats)]
  rows = merge_repeats(repeats)

  def rate(value):
    return "-" if value is None else "%.2f" % value

  print("| | precision | train ex/s | infer ex/s |")
  print("|---|---|---|---|")
  for name, result in rows:
    print("| %s | %s | %s | %s |" % (
        name, result["precision"], rate(result["train_examples_per_sec"]),
        rate(result["infer_examples_per_sec"])))
  if args.hf_python:
    print()
    print_ratios(repeats)
  if args.profile:
    print()
    print_profiles(rows)
  print(json.dumps([result for _, result in rows]))


def print_profiles(rows):
  """One Markdown table: op-class ms (and share) of every profiled step."""
  columns = [("%s %s %s" % ("PyTorch" if result.get("framework") == "pytorch"
                            else "TF" + (" XLA" if result.get("xla") else ""),
                            result["precision"], mode),
              result[mode + "_profile"], result[mode + "_outside_matmul_share"])
             for _, result in rows for mode in ("train", "infer")
             if result.get(mode + "_profile")]
  if not columns:
    return
  classes = []
  for _, profile, _ in columns:
    classes += [kind for kind in profile if kind not in classes]
  print("| op class: ms (share) | %s |" %
        " | ".join(title for title, _, _ in columns))
  print("|---|%s" % ("---|" * len(columns)))
  totals = [sum(profile.values()) or 1.0 for _, profile, _ in columns]
  for kind in classes:
    values = [profile.get(kind, 0.0) for _, profile, _ in columns]
    if any(values):
      print("| %s | %s |" % (kind, " | ".join(
          "%.0f (%.0f%%)" % (value, 100.0 * value / total)
          for value, total in zip(values, totals))))
  print("| all ops | %s |" % " | ".join("%.0f" % total for total in totals))
  print("| outside matmuls | %s |" % " | ".join(
      "%.0f%%" % (100.0 * share) for _, _, share in columns))


if __name__ == "__main__":
  main()
