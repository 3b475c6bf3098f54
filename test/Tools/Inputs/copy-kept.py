#!/usr/bin/env python3
"""Copies a folder chorus-calibrate --keep-measurements kept, for a test to
alter: the runner's outputs, profiles and settings are copied, the models
(a gigabyte of weights, which no test alters) are hard links.

  copy-kept.py <kept folder> <new folder>
"""
import os
import shutil
import sys

source, dest = sys.argv[1:]
os.mkdir(dest)
for name in sorted(os.listdir(source)):
    src = os.path.join(source, name)
    dst = os.path.join(dest, name)
    if name.endswith(".onnx"):
        try:
            os.link(src, dst)
            continue
        except OSError:
            pass
    shutil.copy2(src, dst)
