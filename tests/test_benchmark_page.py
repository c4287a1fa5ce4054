"""docs/benchmarks.md shows the numbers in benchmarks/results: its tables are the ones
``benchmarks/tables.py`` makes from the result files (rerun ``python benchmarks/tables.py --write``
after a benchmark)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tables():
    spec = importlib.util.spec_from_file_location("bench_tables", ROOT / "benchmarks" / "tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_page_tables_match_the_results():
    tables = _tables()
    page = tables.PAGE.read_text()
    assert page.count("<!-- table:") == len(tables.TABLES)  # every table is on the page
    assert tables.render(page) == page, "run: python benchmarks/tables.py --write"

