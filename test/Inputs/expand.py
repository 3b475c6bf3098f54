#!/usr/bin/env python3
"""Copies stdin to stdout, replacing each @repeat(TEXT,N)@ with N copies of
TEXT, so that tests can write large protobuf-text payloads compactly."""
import re
import sys

text = sys.stdin.read()
sys.stdout.write(re.sub(r"@repeat\(([^,]*),(\d+)\)@",
                        lambda m: m.group(1) * int(m.group(2)), text))
