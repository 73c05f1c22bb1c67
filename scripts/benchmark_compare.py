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


def main():
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
  args = parser.parse_args()

  common = ["--albert_config_file=%s" % args.albert_config_file,
            "--max_seq_length=%d" % args.max_seq_length,
            "--batch_size=%d" % args.batch_size,
            "--num_steps=%d" % args.num_steps,
            "--warmup_steps=%d" % args.warmup_steps, "--mode=both"]
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
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
    infer_only = [flag for flag in common if flag != "--mode=both"]
    for quantize in ("none", "int8"):
      result = last_json_line(
          [sys.executable, "-m", "albert.benchmark", "--runtime=onnxruntime",
           "--quantize=%s" % quantize, "--mode=infer"] + infer_only, env)
      rows.append((result["runtime"], result))

  def rate(value):
    return "-" if value is None else "%.2f" % value

  print("| | precision | train ex/s | infer ex/s |")
  print("|---|---|---|---|")
  for name, result in rows:
    print("| %s | %s | %s | %s |" % (
        name, result["precision"], rate(result["train_examples_per_sec"]),
        rate(result["infer_examples_per_sec"])))
  print(json.dumps([result for _, result in rows]))


if __name__ == "__main__":
  main()
