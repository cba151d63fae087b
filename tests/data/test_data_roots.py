from __future__ import annotations

from pathlib import Path

from deepcourse.data import data_root, derived_dir
from deepcourse.data.roots import root_source


def test_default_root_is_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("DEEPCOURSE_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_root() == tmp_path / ".cache" / "deepcourse"
    assert "default" in root_source()


def test_env_beats_default(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPCOURSE_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert root_source() == "$DEEPCOURSE_DATA"


def test_override_beats_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPCOURSE_DATA", str(tmp_path / "env"))
    assert data_root(tmp_path / "cli") == tmp_path / "cli"
    assert data_root(str(tmp_path / "cli")) == tmp_path / "cli"
    assert root_source(tmp_path / "cli") == "--data-dir"
    # the CLI passes the resolved root; the message should still name the real source
    assert root_source(data_root()) == "$DEEPCOURSE_DATA"


def test_empty_values_count_as_unset(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DEEPCOURSE_DATA", "")
    assert data_root("") == tmp_path / ".cache" / "deepcourse"


def test_relative_env_is_made_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEEPCOURSE_DATA", "../shared/data")
    root = data_root()
    assert root.is_absolute()
    assert root == tmp_path.parent / "shared" / "data"


def test_derived_dir_never_inside_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPCOURSE_CACHE", str(tmp_path / "c"))
    assert derived_dir(tmp_path / "root") == tmp_path / "c"
    monkeypatch.delenv("DEEPCOURSE_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "root").mkdir()
    assert derived_dir(tmp_path / "root") == tmp_path / "home" / ".cache" / "deepcourse" / "derived"
    assert not (tmp_path / "root" / "derived").exists()


def test_import_is_cheap():
    import subprocess
    import sys

    code = ("import sys, deepcourse.data; "
            "print(sorted(m for m in ('torch', 'torchvision', 'sklearn', 'scipy', 'PIL') if m in sys.modules))")
    src = Path(__file__).resolve().parents[2] / "src"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(src)})
    assert out.stdout.strip() == "[]"
