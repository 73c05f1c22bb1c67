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

``--profile``: after each mode's timed steps, one more step of that mode
runs under torch.profiler (CPU activity only) and the self CPU time of
every op event is summed into the op classes albert/op_profile.py uses for
TensorFlow (matmul, batch_matmul, attention, softmax, layer_norm, gelu,
elementwise, cast, transpose_reshape, embedding, gradient_sum, optimizer,
loss, other). An event's class is that of the nearest enclosing range
first (the optimizer step and clip_grad_norm_, the GELU modules, the cross
entropy loss, and the backward nodes of ops run inside those), then that
of its own op name or the nearest enclosing op's. A table per mode is
printed before the JSON line, which gains "<mode>_profile" ({class: ms})
and "<mode>_outside_matmul_share" (the op time outside matmul,
batch_matmul and attention, as a fraction). The profiled step is not part
of the timing.
"""

import argparse
import contextlib
import json
import re
import sys
import time

import torch
import transformers
from torch.profiler import ProfilerActivity, profile, record_function
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

# --profile: the op classes, in table order (as in albert/op_profile.py).
PROFILE_CLASSES = ("matmul", "batch_matmul", "attention", "softmax",
                   "layer_norm", "gelu", "elementwise", "cast",
                   "transpose_reshape", "embedding", "gradient_sum",
                   "optimizer", "loss", "other")
MATMUL_CLASSES = ("matmul", "batch_matmul", "attention")

# Op names (normalized by _op_key: no namespace, no leading or trailing
# "_", no "_backward"/"_backward_data" suffix; autograd nodes such as
# "NativeLayerNormBackward0" in snake case without "Backward0") by class.
_NAMED_OPS = {
    "matmul": ("mm", "addmm", "addmm_activation", "linear", "matmul",
               "addmv", "mv", "dot", "mkldnn_linear"),
    "batch_matmul": ("bmm", "baddbmm", "einsum"),
    "softmax": ("softmax", "log_softmax", "safe_softmax"),
    "layer_norm": ("layer_norm", "native_layer_norm"),
    "gelu": ("gelu",),
    "embedding": ("embedding", "embedding_dense", "embedding_bag",
                  "index_select", "index_add"),
    "loss": ("cross_entropy_loss", "nll_loss", "nll_loss_nd",
             "nll_loss_forward", "nll_loss2d", "mse_loss"),
    "cast": ("to", "to_copy", "type_as", "autocast_to_reduced_precision",
             "autocast_to_full_precision"),
    "transpose_reshape": ("transpose", "permute", "contiguous", "clone",
                          "reshape", "reshape_alias", "view", "view_as",
                          "unsafe_view", "t", "expand", "expand_as",
                          "as_strided", "unsqueeze", "squeeze", "flatten",
                          "unflatten", "slice", "select", "narrow", "split",
                          "chunk", "cat", "stack"),
    "gradient_sum": ("accumulate_grad",),
    "elementwise": ("add", "sub", "rsub", "mul", "div", "neg", "where",
                    "dropout", "native_dropout", "feature_dropout",
                    "bernoulli", "masked_fill", "tanh", "pow", "sqrt",
                    "rsqrt", "exp", "log", "sigmoid", "relu", "threshold",
                    "clamp", "clamp_min", "abs", "maximum", "minimum",
                    "reciprocal", "square", "erf", "lerp", "addcmul",
                    "addcdiv", "sum", "mean", "norm", "linalg_vector_norm",
                    "all", "any", "is_nonzero", "eq", "ne", "lt", "le", "gt",
                    "ge", "logical_not", "bitwise_not"),
}
_OP_CLASS = {op: cls for cls, ops in _NAMED_OPS.items() for op in ops}

# Helpers that do work for whichever op calls them (the bias copy inside
# addmm, the copy inside _to_copy or clone, a zeroed gradient buffer), so
# they take their caller's class; the class here is for when no enclosing
# op has one.
_CALLER_CLASS_OPS = {
    "copy": "elementwise", "fill": "elementwise", "zero": "elementwise",
    "zeros": "elementwise", "zeros_like": "elementwise",
    "ones": "elementwise", "ones_like": "elementwise",
    "full": "elementwise", "empty": "other", "empty_like": "other",
    "empty_strided": "other", "resize": "other", "detach": "other",
    "alias": "other", "resolve_conj": "other", "resolve_neg": "other",
    "item": "other", "local_scalar_dense": "other", "result_type": "other",
}

# The autograd engine's event around one backward node: its own apply
# (an event named after the node) plus the engine's work on its outputs
# (summing the gradients of a tensor used more than once, reducing a
# broadcast gradient to its input's shape, casting it to its dtype).
_BACKWARD_NODE = "autograd::engine::evaluate_function: "
_GELU_RANGE = "gelu"
_CLIP_RANGE = "clip_grad_norm_"


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
  p.add_argument("--profile", action="store_true",
                 help="After each mode's timed steps, profile one more "
                 "step and print its CPU op time by op class.")
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


def _op_key(name):
  """An op or autograd node event's name, normalized for _OP_CLASS.

  "aten::_log_softmax_backward_data" -> "log_softmax", "aten::add_" ->
  "add", "autograd::engine::evaluate_function: NativeLayerNormBackward0"
  and "NativeLayerNormBackward0" -> "native_layer_norm",
  "torch::autograd::AccumulateGrad" -> "accumulate_grad".
  """
  if name.startswith(_BACKWARD_NODE):
    name = name[len(_BACKWARD_NODE):]
  name = name.rsplit("::", 1)[-1]
  node = re.fullmatch(r"([A-Z]\w*?)Backward\d*", name)
  if node:
    name = node.group(1)
  if name[:1].isupper():
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
  name = re.sub(r"_backward(_data)?$", "", name.strip("_"))
  return name.strip("_")


def _ancestry(event):
  """The event, then its enclosing events on its thread, innermost first."""
  while event is not None:
    yield event
    event = event.cpu_parent


def _range_class(event, backward_links):
  """The class a range gives every event inside it, or None.

  Ranges: the optimizer's own record_function ranges ("Optimizer.step#..."
  and "Optimizer.zero_grad#...") and ours around clip_grad_norm_; ours
  around each GELU module's forward; the aten::cross_entropy_loss op (the
  loss HF computes inside the model's forward); and the backward node of
  any op run inside the GELU or loss ranges (backward_links).
  """
  name = event.name
  if name.startswith(("Optimizer.step#", "Optimizer.zero_grad#")) or (
      name == _CLIP_RANGE):
    return "optimizer"
  if name == _GELU_RANGE and event.is_user_annotation:
    return "gelu"
  if name == "aten::cross_entropy_loss":
    return "loss"
  if name.startswith(_BACKWARD_NODE):
    return backward_links.get(event.sequence_nr)
  return None


def _backward_links(events):
  """{sequence number: "gelu" or "loss"} for the backward nodes of ops run
  inside the GELU or loss ranges in the forward pass.

  The profiler gives each forward op the sequence number the next autograd
  node will get, and a node's backward event the number it got; that is
  how TanhBackward0, PowBackward0 and the MulBackward0/AddBackward0 of
  the GELU formula are told from other nodes of the same name. An op that
  creates no node (labels.view(-1) before the loss) shares its number with
  the next op that does, and an op's callees share it too, so a number's
  node belongs to the last forward op that started with that number.
  """
  latest = {}
  for event in events:
    chain = list(_ancestry(event))
    if event.sequence_nr < 0 or any(
        a.name.startswith(_BACKWARD_NODE) for a in chain):
      continue
    kind = next((k for k in (_range_class(a, {}) for a in chain) if k),
                None)
    start = event.time_range.start
    if event.sequence_nr not in latest or start >= latest[
        event.sequence_nr][0]:
      latest[event.sequence_nr] = (start, kind)
  return {seq: kind for seq, (unused_start, kind) in latest.items()
          if kind in ("gelu", "loss")}


def _named_class(event):
  """The class of an event's own op name or, for helpers
  (_CALLER_CLASS_OPS) and unknown names, of the nearest enclosing op with
  a class."""
  for outer in _ancestry(event):
    key = _op_key(outer.name)
    parent = outer.cpu_parent
    if key == "add" and parent is not None and parent.name.startswith(
        _BACKWARD_NODE):
      return "gradient_sum"  # the engine summing a tensor's gradients
    if key.startswith("scaled_dot_product"):
      return "attention"
    if key in _OP_CLASS:
      return _OP_CLASS[key]
  return _CALLER_CLASS_OPS.get(_op_key(event.name), "other")


def _event_class(event, backward_links):
  """The class of one op event: its innermost enclosing range's, else
  _named_class's. Casts are casts inside the loss too (autocast runs
  log_softmax in fp32, so the bf16 logits are cast there), as in
  albert/op_profile.py; inside the optimizer and GELU they are not."""
  for outer in _ancestry(event):
    kind = _range_class(outer, backward_links)
    if kind:
      if kind == "loss" and _named_class(event) == "cast":
        return "cast"
      return kind
  return _named_class(event)


def classify_events(events):
  """Sums the self CPU time of profiled op events by class.

  Counts the events of the thread that ran the step (the one with the
  most time in outermost events; on the CPU the autograd engine runs the
  backward pass on the calling thread too). Record_function ranges are
  not ops: their self time (Python between the ops they enclose) is left
  out.

  Returns:
    ({class: ms} over PROFILE_CLASSES, ms of events on other threads).
  """
  cpu = torch.autograd.DeviceType.CPU
  events = [e for e in events if e.device_type == cpu]
  per_thread = {}
  for event in events:
    if event.cpu_parent is None:
      per_thread[event.thread] = (per_thread.get(event.thread, 0.0) +
                                  event.cpu_time_total)
  main = max(per_thread, key=per_thread.get) if per_thread else None
  ms = dict.fromkeys(PROFILE_CLASSES, 0.0)
  other_threads = 0.0
  links = _backward_links([e for e in events if e.thread == main])
  for event in events:
    if event.is_user_annotation:
      continue
    if event.thread != main:
      other_threads += event.self_cpu_time_total / 1000.0
      continue
    ms[_event_class(event, links)] += event.self_cpu_time_total / 1000.0
  return ms, other_threads


def _mark_activations(model, config):
  """Wraps each GELU module's forward in record_function("gelu").

  HF's "gelu_new" is a Python formula of mul/pow/tanh/add, so its forward
  ops are only told from other elementwise ops by the module they run in.
  A forward pre-hook opens the range and a forward hook closes it; the
  backward nodes those ops create are found by _backward_links. Only the
  modules named "activation" (AlbertLayer's and the MLM head's; not the
  pooler's tanh), and only when hidden_act is a GELU.

  Returns:
    The hook handles, to remove after the profiled step.
  """
  if "gelu" not in str(config.hidden_act):
    return []
  handles = []
  for name, module in model.named_modules():
    if name.rsplit(".", 1)[-1] != "activation":
      continue
    open_ranges = []

    def enter(unused_module, unused_inputs, open_ranges=open_ranges):
      open_ranges.append(record_function(_GELU_RANGE).__enter__())

    def leave(unused_module, unused_inputs, unused_output,
              open_ranges=open_ranges):
      open_ranges.pop().__exit__(None, None, None)

    handles.append(module.register_forward_pre_hook(enter))
    handles.append(module.register_forward_hook(leave))
  return handles


def profile_step(step_fn, model, config):
  """Runs step_fn once under torch.profiler; returns its class profile.

  The GELU ranges (_mark_activations) exist only during this step, so the
  timed steps run the model unchanged.

  Returns:
    dict: "ms" ({class: ms}), "op_ms" (their sum), "step_ms" (the step's
    wall time, profiler overhead included), "other_threads_ms".
  """
  handles = _mark_activations(model, config)
  try:
    with profile(activities=[ProfilerActivity.CPU]) as prof:
      start = time.perf_counter()
      step_fn()
      step_ms = 1000.0 * (time.perf_counter() - start)
  finally:
    for handle in handles:
      handle.remove()
  ms, other_threads = classify_events(prof.events())
  return {"ms": ms, "op_ms": sum(ms.values()), "step_ms": step_ms,
          "other_threads_ms": other_threads}


def outside_matmul_share(prof):
  """The fraction of a profile's op time outside MATMUL_CLASSES."""
  matmul = sum(prof["ms"][c] for c in MATMUL_CLASSES)
  return 1.0 - matmul / prof["op_ms"] if prof["op_ms"] > 0 else 0.0


def print_profile(mode, precision, prof):
  """The class table of one profiled step."""
  print(f"profile {mode} ({precision}): traced op time {prof['op_ms']:.1f} "
        f"ms of a {prof['step_ms']:.1f} ms step")
  if prof["other_threads_ms"] > 0:
    print(f"  ({prof['other_threads_ms']:.1f} ms of ops on other threads, "
          "not counted)")
  print(f"{'class':<17} {'ms':>9} {'share':>8}")
  for name in PROFILE_CLASSES:
    ms = prof["ms"][name]
    share = ms / prof["op_ms"] if prof["op_ms"] > 0 else 0.0
    print(f"{name:<17} {ms:>9.1f} {100.0 * share:>7.1f}%")
  print(f"outside matmuls: {100.0 * outside_matmul_share(prof):.1f}%   "
        "(everything but matmul, batch_matmul and attention)")
  print()


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

  def step(profiling=False):
    with autocast_ctx(args.precision):
      out = model(input_ids=input_ids, attention_mask=attention_mask,
                  token_type_ids=token_type_ids, labels=labels,
                  sentence_order_label=sop)
    loss = out.loss
    loss.backward()
    with (record_function(_CLIP_RANGE) if profiling
          else contextlib.nullcontext()):
      torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    losses.append(loss.detach())

  elapsed = time_steps(step, args.warmup_steps, args.num_steps)
  last_loss = float(losses[-1]) if losses else float("nan")
  attn = getattr(model.config, "_attn_implementation", None)
  prof = None
  if args.profile:
    prof = profile_step(lambda: step(profiling=True), model, config)
  return elapsed, last_loss, attn, prof


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
  prof = profile_step(step, model, config) if args.profile else None
  return elapsed, shape[0] if shape else None, attn, prof


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
  profiles = []
  if args.mode in ("train", "both"):
    elapsed, last_loss, attn, prof = bench_train(config, args, gen)
    result["train_examples_per_sec"] = b * n / elapsed
    result["train_step_ms"] = 1000.0 * elapsed / n
    rows.append(("train", elapsed, f"loss {last_loss:.4f}"))
    profiles.append(("train", prof))
  if args.mode in ("infer", "both"):
    elapsed, shape, attn, prof = bench_infer(config, args, gen)
    result["infer_examples_per_sec"] = b * n / elapsed
    result["infer_step_ms"] = 1000.0 * elapsed / n
    rows.append(("infer", elapsed, f"out {list(shape)}"))
    profiles.append(("infer", prof))
  if attn:
    print(f"  attention implementation: {attn}")

  print()
  print(f"{'mode':<6} {'step ms':>10} {'examples/s':>12} {'tokens/s':>12}  note")
  for mode, elapsed, note in rows:
    print(f"{mode:<6} {1000.0 * elapsed / n:>10.1f} {b * n / elapsed:>12.2f} "
          f"{b * s * n / elapsed:>12.1f}  {note}")
  print()
  for mode, prof in profiles:
    if prof is not None:
      print_profile(mode, args.precision, prof)
      result[f"{mode}_profile"] = {name: round(ms, 1)
                                   for name, ms in prof["ms"].items()}
      result[f"{mode}_outside_matmul_share"] = round(
          outside_matmul_share(prof), 3)

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
