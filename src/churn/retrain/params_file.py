"""Edit keys of ``params.yaml`` in place, keeping its comments, order and layout.

The challenger's experiment changes a few keys (the training source, the challenge stage,
the gate's enforcement). ``dvc exp run -S`` would rewrite the whole file in another style
(flow lists unfolded, ``null`` dropped): a promotion commit would then carry a diff of
every line. Here only the values change (ruamel.yaml's round trip, which DVC ships with).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from churn.core.errors import ConfigError


def _yaml() -> YAML:
    yaml = YAML()  # round trip: comments, key order and flow style survive
    yaml.preserve_quotes = True
    yaml.width = 4096
    # params.yaml's block lists are indented under their key (`months:` then `    - ...`).
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def _merge(node: Any, value: Mapping[str, Any]) -> None:
    """Make mapping ``node`` equal ``value``, editing it in place (its comments stay)."""
    for key in [k for k in node if k not in value]:
        del node[key]
    for key, item in value.items():
        if isinstance(item, Mapping) and isinstance(node.get(key), Mapping):
            _merge(node[key], item)
        else:
            node[key] = item


def set_params(path: Path, updates: Mapping[str, Any]) -> None:
    """Set each dotted key of ``updates`` (``collect.source``) to its value in ``path``."""
    yaml = _yaml()
    document = yaml.load(path.read_text(encoding="utf-8"))
    for dotted, value in updates.items():
        *parents, last = dotted.split(".")
        node = document
        for part in parents:
            if not isinstance(node.get(part), Mapping):
                raise ConfigError(f"{path}: no section {'.'.join(parents)!r} to set {dotted}")
            node = node[part]
        current = node.get(last)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            _merge(current, value)
        elif isinstance(value, list) and isinstance(current, list):
            # Keep a list on one line when it was (an empty one, `[]`, has no style: None).
            flow = current.fa.flow_style() is not False
            current[:] = value
            if flow:
                current.fa.set_flow_style()
        else:
            node[last] = value
    out = io.StringIO()
    yaml.dump(document, out)
    path.write_text(out.getvalue(), encoding="utf-8")
