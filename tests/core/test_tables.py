import json

import pytest

from deepcourse.core import Run, markdown_table


def test_markdown_table_columns_and_formats():
    text = markdown_table([{"method": "a|b", "acc": 0.123456}, {"method": "c", "nmi": float("nan")}])
    lines = text.strip().splitlines()
    assert lines[0] == "| method | acc | nmi |"
    assert lines[2] == "| a\\|b | 0.1235 |  |"
    assert lines[3] == "| c |  | nan |"
    with pytest.raises(ValueError):
        markdown_table([])
    with pytest.raises(TypeError, match="row 1"):
        markdown_table([{"a": 1}, [1]])


def test_run_table_writes_md_and_json_and_appends(tmp_path, capsys):
    run = Run(tmp_path / "r", device="cpu", progress=False, verbose=True)
    run.table([{"k": 1, "v": float("inf")}], "First")
    run.table([{"k": 2}], "Second")
    md = (tmp_path / "r" / "table.md").read_text()
    assert md.index("### First") < md.index("### Second")
    tables = json.loads((tmp_path / "r" / "table.json").read_text())
    assert [t["title"] for t in tables] == ["First", "Second"]
    assert tables[0]["rows"] == [{"k": 1, "v": "inf"}]
    assert "### First" in capsys.readouterr().out
    # a new run in the same folder replaces the old tables rather than appending to them
    run2 = Run(tmp_path / "r", device="cpu", progress=False)
    run2.table([{"k": 3}], "Only")
    assert json.loads((tmp_path / "r" / "table.json").read_text())[0]["title"] == "Only"
    assert "First" not in (tmp_path / "r" / "table.md").read_text()


def test_seed_for_is_stable_and_tag_specific(tmp_path):
    a = Run(tmp_path / "a", device="cpu", seed=3, progress=False)
    b = Run(tmp_path / "b", device="cpu", seed=3, progress=False)
    assert a.seed_for("teacher") == b.seed_for("teacher") != a.seed_for("student")
    assert Run(tmp_path / "c", device="cpu", seed=4, progress=False).seed_for("teacher") != a.seed_for("teacher")
    import torch

    a.manual_seed("x")
    u = torch.rand(3)
    b.manual_seed("x")
    torch.testing.assert_close(u, torch.rand(3))
    with pytest.raises(ValueError):
        a.seed_for("")
