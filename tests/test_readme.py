"""The README's code blocks run as written, in order, in one namespace, and give what their comments state
(docs that cannot rot): shapes such as ``# (8, 60, 10)``, record times such as ``tensor([1., 2., 3.])``,
xarray dimensions such as ``response (condition, image, time_ms, area)``, and the parameter count."""

import ast
import re
import textwrap
from pathlib import Path

import torch

README = Path(__file__).resolve().parents[1] / "README.md"

SHAPE = re.compile(r"\((\d+(?:, \d+)+)\)")  # (8, 60, 10)
TENSOR = re.compile(r"tensor\(\[([^\]]*)\]\)")  # tensor([1., 2., 3.])
DIMS = re.compile(r"\b(\w+) \(([a-z_]+(?:, [a-z_]+)+)\)")  # response (condition, image, time_ms, area)


def claims(comment: str) -> list[tuple[int, str, object]]:
    """The checkable statements of a comment, in order of appearance: (position, kind, expected value)."""
    found = [(m.start(), "shape", tuple(int(v) for v in m.group(1).split(", "))) for m in SHAPE.finditer(comment)]
    found += [(m.start(), "tensor", [float(v) for v in m.group(1).split(",")]) for m in TENSOR.finditer(comment)]
    found += [(m.start(), "dims", (m.group(1), tuple(m.group(2).split(", ")))) for m in DIMS.finditer(comment)]
    return sorted(found)


def check(value: object, kind: str, expected: object) -> None:
    if kind == "shape":
        got = tuple(value) if isinstance(value, torch.Size) else tuple(value.shape)
        assert got == expected, (got, expected)
    elif kind == "tensor":
        assert torch.equal(value, torch.tensor(expected, dtype=value.dtype)), (value, expected)
    else:
        attr, dims = expected
        assert getattr(value, attr).dims == dims, (getattr(value, attr).dims, dims)


def test_readme_blocks_run_in_order_and_give_what_their_comments_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks may write runs/...
    text = README.read_text()
    blocks = [textwrap.dedent(b) for b in re.findall(r"```python\n(.*?)```", text, flags=re.S)]
    assert len(blocks) >= 2
    namespace: dict = {}
    checked = []
    for i, block in enumerate(blocks):
        exec(compile(block, f"README block {i}", "exec"), namespace)
        lines = block.splitlines()
        for stmt in ast.parse(block).body:
            line = lines[stmt.lineno - 1]
            stated = claims(line.partition("#")[2])
            if not stated:
                continue
            if isinstance(stmt, ast.Assign):  # `x = ...  # (shape)`: the value the block left in x
                values = [eval(ast.unparse(stmt.targets[0]), namespace)]
            else:  # `a, b  # (shape), tensor(...)`: each element against each statement, in order
                value = eval(ast.unparse(stmt.value), namespace)
                values = list(value) if isinstance(value, tuple) and not isinstance(value, torch.Size) else [value]
            assert len(values) == len(stated), (line, stated)
            for v, (_, kind, expected) in zip(values, stated):
                check(v, kind, expected)
                checked.append((i, kind, expected))
    # the quickstart's logits and IT record shapes, its record times and the recording's dimensions
    assert [k for _, k, _ in checked] == ["shape", "shape", "tensor", "dims"], checked
    assert "midpoint" in namespace["dc"].list_solvers()
    stated_count = int(re.search(r"([\d,]+) parameters at 10 classes", text).group(1).replace(",", ""))
    assert sum(p.numel() for p in namespace["dc"].create_model("dyrcnnx4").parameters()) == stated_count
