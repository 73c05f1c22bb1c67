# coding=utf-8
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
"""The encoder and vocabulary every fine-tuning task starts from.

Either an `AlbertModel` built from a config (initialised later from
`init_checkpoint`) or a TF1 Hub module with the released "tokens" and
"tokenization_info" signatures. GLUE, SQuAD and RACE all come through here.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import os

from google.protobuf import message
import tensorflow.compat.v1 as tf

from albert import modeling
from albert import tokenization


def _hub():
  # Imported lazily: only hub users pay for tensorflow_hub's import.
  import tensorflow_hub as hub  # pylint: disable=g-import-not-at-top
  return hub


# The files that tell a local TF1 Hub module from other directories.
_HUB_MODULE_FILE = "tfhub_module.pb"
_SAVED_MODEL_FILE = "saved_model.pb"


def _is_remote_handle(handle):
  # http(s):// and gs:// handles are hub's to resolve (download, cache);
  # nothing here can look at them without doing its work.
  return "://" in handle


def check_hub_module(hub_module, signatures=()):
  """Fails, naming the handle, if a local hub module cannot be used.

  hub.Module reports a missing path or a directory of another kind (a TF2
  SavedModel, a checkpoint directory) as a missing tfhub_module.pb deep in
  TensorFlow; the command lines turned that into a hint about checkpoints.
  Remote handles are left to hub.

  Args:
    hub_module: --albert_hub_module_handle value.
    signatures: signature names the caller will use.

  Raises:
    ValueError: the handle is missing, not a TF1 Hub module, unreadable,
      or lacks one of `signatures`.
  """
  if _is_remote_handle(hub_module):
    return
  what = "--albert_hub_module_handle=%s" % hub_module
  expected = ("expected a TF1 Hub module directory (with %s, as "
              "albert.export_to_tfhub writes) or an http(s):// or gs:// "
              "handle" % _HUB_MODULE_FILE)
  if not tf.gfile.Exists(hub_module):
    raise ValueError("%s: not found; %s" % (what, expected))
  if not tf.gfile.IsDirectory(hub_module):
    raise ValueError("%s is a file, not a directory; %s" % (what, expected))
  if not tf.gfile.Exists(os.path.join(hub_module, _HUB_MODULE_FILE)):
    if tf.gfile.Exists(os.path.join(hub_module, _SAVED_MODEL_FILE)):
      kind = ("a SavedModel, not a TF1 Hub module (no %s); hub.Module "
              "cannot load it" % _HUB_MODULE_FILE)
    else:
      kind = "not a hub module: there is no %s in it" % _HUB_MODULE_FILE
    raise ValueError("%s is %s; %s" % (what, kind, expected))
  try:
    spec = _hub().load_module_spec(hub_module)
    names = set(spec.get_signature_names())
  except (ValueError, KeyError, OSError, tf.errors.OpError,
          message.DecodeError) as e:
    raise ValueError("%s cannot be loaded as a TF1 Hub module: %s" %
                     (what, str(e).strip().splitlines()[0] if str(e) else
                      type(e).__name__))
  missing = [name for name in signatures if name not in names]
  if missing:
    raise ValueError(
        "%s has no %s signature (it has: %s); expected an ALBERT or BERT "
        "module with the \"tokens\" and \"tokenization_info\" signatures" %
        (what, ", ".join('"%s"' % name for name in missing),
         ", ".join(sorted(names)) or "none"))


def create_albert(albert_config,
                  is_training,
                  input_ids,
                  input_mask,
                  segment_ids,
                  use_one_hot_embeddings,
                  use_einsum=True,
                  hub_module=None):
  """Builds the ALBERT encoder for fine-tuning.

  Args:
    albert_config: `AlbertConfig` (unused with a hub module).
    is_training: enables dropout (and the hub module's "train" tag).
    input_ids: int32 Tensor [B, S].
    input_mask: int32 Tensor [B, S].
    segment_ids: int32 Tensor [B, S].
    use_one_hot_embeddings: one-hot embedding lookups (TPU).
    use_einsum: einsum or matmul-only dense layers.
    hub_module: (optional) TF-Hub module handle or local path.

  Returns:
    (pooled_output [B, H], sequence_output [B, S, H]).

  Raises:
    ValueError: a local hub_module that is no usable TF1 Hub module.
  """
  if hub_module:
    check_hub_module(hub_module, signatures=("tokens",))
    tags = {"train"} if is_training else set()
    module = _hub().Module(hub_module, tags=tags, trainable=True)
    outputs = module(
        inputs=dict(input_ids=input_ids, input_mask=input_mask,
                    segment_ids=segment_ids),
        signature="tokens",
        as_dict=True)
    return (outputs["pooled_output"], outputs["sequence_output"])
  model = modeling.AlbertModel(
      config=albert_config,
      is_training=is_training,
      input_ids=input_ids,
      input_mask=input_mask,
      token_type_ids=segment_ids,
      use_one_hot_embeddings=use_one_hot_embeddings,
      use_einsum=use_einsum,
      hand_written_gradients=True)
  return (model.get_pooled_output(), model.get_sequence_output())


def create_vocab(vocab_file, do_lower_case, spm_model_file, hub_module):
  """The tokenizer: from vocab/spm files, or the hub module's own.

  Args:
    vocab_file: WordPiece vocab.txt (used when no spm_model_file).
    do_lower_case: lower-case input (ignored with a hub module, which says
      itself whether it was trained lower-cased).
    spm_model_file: sentencepiece model.
    hub_module: (optional) TF-Hub module handle or local path.

  Returns:
    `tokenization.FullTokenizer`.

  Raises:
    ValueError: a local hub_module that is no usable TF1 Hub module.
  """
  if hub_module:
    check_hub_module(hub_module, signatures=("tokenization_info",))
    use_spm = bool(spm_model_file) or not vocab_file
    return tokenization.FullTokenizer.from_hub_module(hub_module,
                                                      use_spm=use_spm)
  return tokenization.FullTokenizer.from_scratch(
      vocab_file=vocab_file, do_lower_case=do_lower_case,
      spm_model_file=spm_model_file)


def check_init_source(init_checkpoint, hub_module, what):
  """Validates where the encoder's weights come from.

  Args:
    init_checkpoint: --init_checkpoint value.
    hub_module: --albert_hub_module_handle value.
    what: the job, for messages (e.g. "run_classifier MRPC").

  Returns:
    None, or a note for the results file when training starts from random
    weights (neither source given).

  Raises:
    ValueError: both sources were given.
  """
  if init_checkpoint and hub_module:
    raise ValueError(
        "Give either --init_checkpoint or --albert_hub_module_handle, not "
        "both (got %s and %s)" % (init_checkpoint, hub_module))
  if init_checkpoint or hub_module:
    return None
  tf.logging.warning(
      "*** %s: neither --init_checkpoint nor --albert_hub_module_handle was "
      "given, so the encoder starts from RANDOM weights. Results will be "
      "far below a pretrained model's. ***", what)
  return ("random initialisation: no init_checkpoint or "
          "albert_hub_module_handle was given")


def check_vocab_matches_config(tokenizer, albert_config, source):
  """Fails when the tokenizer can produce ids past the embedding table.

  A tokenizer smaller than vocab_size (a padded table) gets a warning with
  both sizes (`AlbertConfig.check_num_token_ids`).

  Args:
    tokenizer: `tokenization.FullTokenizer`.
    albert_config: `AlbertConfig`.
    source: what the vocabulary came from, for the message.

  Raises:
    ValueError: the tokenizer has more ids than config.vocab_size.
  """
  albert_config.check_num_token_ids(tokenizer.num_token_ids(),
                                    "The vocabulary %s" % source)
