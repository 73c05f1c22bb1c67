# coding=utf-8
"""Reliability regression tests; a package so that their basenames may repeat
tests/ ones (quickstart_test.py)."""
