#!/usr/bin/env python
# coding=utf-8
"""Lines of code per function in albert/: the ten longest, and the limit.

    python scripts/function_lengths.py            # the ten longest
    python scripts/function_lengths.py --max 80   # exit 1 if any is longer

A function's code lines are its lines that hold code: blank lines,
comments and docstrings do not count, nor do nested functions' lines
(they are measured on their own). CONTRIBUTING.md sets the limit at 80.
"""

import argparse
import ast
import io
import os
import sys
import tokenize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _code_lines(source):
  """The numbers of the lines that hold a token other than a comment."""
  lines = set()
  for token in tokenize.generate_tokens(io.StringIO(source).readline):
    if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                      tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
      continue
    lines.update(range(token.start[0], token.end[0] + 1))
  return lines


def _docstring_lines(node):
  """The lines of a function's, class's or module's docstring."""
  body = getattr(node, "body", None)
  if (body and isinstance(body[0], ast.Expr) and
      isinstance(body[0].value, ast.Constant) and
      isinstance(body[0].value.value, str)):
    return set(range(body[0].lineno, body[0].end_lineno + 1))
  return set()


def function_lengths(path):
  """[(code lines, "file:line name")] of every function in a file."""
  with open(path, encoding="utf-8") as f:
    source = f.read()
  code = _code_lines(source)
  tree = ast.parse(source)
  functions = [node for node in ast.walk(tree)
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
  results = []
  for function in functions:
    lines = set(range(function.lineno, function.end_lineno + 1)) & code
    lines -= _docstring_lines(function)
    for inner in ast.walk(function):
      if inner is not function and isinstance(
          inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        lines -= set(range(inner.lineno, inner.end_lineno + 1))
    # The def line itself and decorators count once, as the signature.
    results.append((len(lines), "%s:%d %s" % (
        os.path.relpath(path, ROOT), function.lineno, function.name)))
  return results


def package_function_lengths(package=os.path.join(ROOT, "albert")):
  """Every function of the package, longest first."""
  results = []
  for name in sorted(os.listdir(package)):
    if name.endswith(".py"):
      results.extend(function_lengths(os.path.join(package, name)))
  return sorted(results, key=lambda item: (-item[0], item[1]))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--max", type=int, default=None,
                      help="exit 1 if a function has more code lines")
  parser.add_argument("--top", type=int, default=10,
                      help="how many of the longest to print (default 10)")
  args = parser.parse_args()
  results = package_function_lengths()
  for length, where in results[:args.top]:
    print("%4d  %s" % (length, where))
  if args.max is not None:
    over = [r for r in results if r[0] > args.max]
    print("%d function(s) over %d lines of code" % (len(over), args.max))
    return 1 if over else 0
  return 0


if __name__ == "__main__":
  sys.exit(main())
