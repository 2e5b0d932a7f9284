#!/usr/bin/env python3
"""Writes a shipped config with one option set on its linear default, for benchmarks that
compare a config's variants: config_variant.py CONFIG OUT.json KEY VALUE
(for example configs/int8.json build/x/int8-grid-range.json activation_range grid)."""
import json
import sys

config_path, out_path, key, value = sys.argv[1:5]
with open(config_path) as f:
    config = json.load(f)
config.pop("$schema", None)
config["description"] = f"{config_path} with \"{key}\": \"{value}\" (a benchmark variant)"
config["defaults"]["linear"][key] = value
with open(out_path, "w") as f:
    json.dump(config, f, indent=2)
