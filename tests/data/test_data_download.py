"""download_file / safe_extract / registry download against a local HTTP server on 127.0.0.1 (no network)."""

from __future__ import annotations

import functools
import hashlib
import io
import tarfile
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deepcourse.data import (DataCorruptError, DatasetSpec, DownloadError, FileSpec, UnsafeArchiveError, check,
                             download, download_file, register_dataset, safe_extract, unregister_dataset)

PAYLOAD = bytes(range(256)) * 300  # 76,800 bytes: several chunks for the progress bar
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


def _tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve tmp_path/'www' on an ephemeral port; yields (base_url, folder)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    www = tmp_path / "www"
    www.mkdir()
    (www / "fixture.bin").write_bytes(PAYLOAD)
    _tar_gz(www / "fixture.tar.gz", {"pkg/a.txt": b"alpha", "pkg/sub/b.txt": b"beta"})
    with zipfile.ZipFile(www / "fixture.zip", "w") as zf:
        zf.writestr("pkg/a.txt", b"alpha")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", www
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_download_ok(server, tmp_path):
    base, _ = server
    dest = tmp_path / "dl" / "sub" / "fixture.bin"
    out = download_file(f"{base}/fixture.bin", dest, sha256=PAYLOAD_SHA, size=len(PAYLOAD), progress=True)
    assert out == dest and dest.read_bytes() == PAYLOAD
    assert sorted(p.name for p in dest.parent.iterdir()) == ["fixture.bin"]  # no temp file left


def test_download_accepts_any_listed_digest(server, tmp_path):
    base, _ = server
    dest = tmp_path / "f.bin"
    download_file(f"{base}/fixture.bin", dest, sha256={"0" * 64, PAYLOAD_SHA.upper()}, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_corrupted_download_rejected_and_nothing_left(server, tmp_path):
    base, www = server
    (www / "fixture.bin").write_bytes(PAYLOAD[:-1] + b"X")  # served bytes are damaged, same size
    dest_dir = tmp_path / "dl"
    with pytest.raises(DataCorruptError) as e:
        download_file(f"{base}/fixture.bin", dest_dir / "fixture.bin", sha256=PAYLOAD_SHA, progress=False)
    msg = str(e.value)
    assert f"{base}/fixture.bin" in msg and PAYLOAD_SHA in msg
    assert isinstance(e.value, ValueError)
    assert list(dest_dir.iterdir()) == []  # neither the file nor a temp file


def test_failed_download_keeps_previous_file(server, tmp_path):
    base, _ = server
    dest = tmp_path / "fixture.bin"
    dest.write_bytes(b"previous")
    with pytest.raises(DataCorruptError, match="size"):
        download_file(f"{base}/fixture.bin", dest, size=123, progress=False)
    assert dest.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fixture.bin", "www"]


def test_missing_file_404(server, tmp_path):
    base, _ = server
    url = f"{base}/no-such-file.gz"
    with pytest.raises(DownloadError) as e:
        download_file(url, tmp_path / "x.gz", progress=False)
    assert e.value.status == 404 and url in str(e.value) and "404" in str(e.value)
    assert isinstance(e.value, OSError)
    assert list(tmp_path.glob("*.gz")) == [] and list(tmp_path.glob(".*part")) == []
    with pytest.raises(DownloadError):
        download_file(url, tmp_path / "new-folder" / "x.gz", progress=False)
    assert not (tmp_path / "new-folder").exists()


def test_unreachable_server(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(DownloadError, match=f"127.0.0.1:{port}"):
        download_file(f"http://127.0.0.1:{port}/x", tmp_path / "x", progress=False, timeout=5)


def test_only_http_schemes(tmp_path):
    with pytest.raises(ValueError, match="url"):
        download_file(f"file://{tmp_path}/x", tmp_path / "y", progress=False)


def test_download_then_extract(server, tmp_path):
    base, www = server
    sha = hashlib.sha256((www / "fixture.tar.gz").read_bytes()).hexdigest()
    arc = download_file(f"{base}/fixture.tar.gz", tmp_path / "fixture.tar.gz", sha256=sha, progress=False)
    out = safe_extract(arc, tmp_path / "x")
    assert (tmp_path / "x" / "pkg" / "sub" / "b.txt").read_bytes() == b"beta"
    assert tmp_path / "x" / "pkg" / "a.txt" in out
    zarc = download_file(f"{base}/fixture.zip", tmp_path / "fixture.zip", progress=False)
    safe_extract(zarc, tmp_path / "z")
    assert (tmp_path / "z" / "pkg" / "a.txt").read_bytes() == b"alpha"


def test_registry_download_tries_mirrors(server, tmp_path):
    base, _ = server
    spec = register_dataset(DatasetSpec(
        name="served", description="Served by the test server.",
        files=(FileSpec("served/fixture.bin", PAYLOAD_SHA, len(PAYLOAD),
                        urls=(f"{base}/missing/fixture.bin", f"{base}/fixture.bin")),),
        licence="test", loader=lambda ctx, split: None, citation="none", kind="test"), replace=True)
    try:
        root = tmp_path / "root"
        assert [r.status for r in check("served", root)] == ["missing"]
        got = download("served", root, progress=False)
        assert got == [root / "served" / "fixture.bin"]
        assert [r.status for r in check("served", root)] == ["ok"]
        assert download("served", root, progress=False) == []  # idempotent
        (root / "served" / "fixture.bin").write_bytes(b"damaged")
        assert download("served", root, progress=False) == [root / "served" / "fixture.bin"]  # repaired
        assert check("served", root)[0].status == "ok"
    finally:
        unregister_dataset(spec.name)


def test_registry_download_all_mirrors_fail(server, tmp_path):
    base, _ = server
    register_dataset(DatasetSpec(
        name="served-404", description="Nowhere.",
        files=(FileSpec("served-404/x.bin", PAYLOAD_SHA, 1, urls=(f"{base}/a.bin", f"{base}/b.bin")),),
        licence="test", loader=lambda ctx, split: None, citation="none", kind="test"), replace=True)
    try:
        with pytest.raises(DownloadError) as e:
            download("served-404", tmp_path, progress=False)
        assert f"{base}/a.bin" in str(e.value) and f"{base}/b.bin" in str(e.value)
        assert not (tmp_path / "served-404" / "x.bin").exists()
    finally:
        unregister_dataset("served-404")


def test_no_url_gives_manual_route(tmp_path):
    with pytest.raises(DownloadError, match="no download URL"):
        download("cifar10-jpeg", tmp_path, progress=False)


# ------------------------------------------------------------------------------------- unsafe archives

def _tar_with(path: Path, add) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        add(tf)
    return path


def _file(tf, name, data=b"x"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def _link(tf, name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    tf.addfile(info)


UNSAFE_TARS = {
    "dotdot": lambda tf: (_file(tf, "ok.txt"), _file(tf, "../evil.txt")),
    "absolute": lambda tf: _file(tf, "/tmp/deepcourse-evil.txt"),
    "nested-dotdot": lambda tf: _file(tf, "a/b/../../../evil.txt"),
    "symlink-out": lambda tf: _link(tf, "link", "../../etc"),
    "symlink-abs": lambda tf: _link(tf, "link", "/etc/passwd"),
    "hardlink-out": lambda tf: _link(tf, "hard", "../outside.txt", tarfile.LNKTYPE),
    "fifo": lambda tf: tf.addfile(_fifo()),
}


def _fifo():
    info = tarfile.TarInfo("pipe")
    info.type = tarfile.FIFOTYPE
    return info


@pytest.mark.parametrize("case", list(UNSAFE_TARS))
def test_unsafe_tar_rejected(tmp_path, case):
    arc = _tar_with(tmp_path / "bad.tar.gz", UNSAFE_TARS[case])
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError):
        safe_extract(arc, dest)
    assert not dest.exists()  # checked before anything was written
    assert not (tmp_path / "evil.txt").exists()


def test_safe_tar_links_inside_allowed(tmp_path):
    def add(tf):
        _file(tf, "data/real.txt", b"content")
        _link(tf, "data/alias.txt", "real.txt")
    out = safe_extract(_tar_with(tmp_path / "ok.tar.gz", add), tmp_path / "out")
    assert (tmp_path / "out" / "data" / "alias.txt").read_bytes() == b"content"
    assert len(out) == 2


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt", "..\\evil.txt"])
def test_unsafe_zip_rejected(tmp_path, name):
    arc = tmp_path / "bad.zip"
    with zipfile.ZipFile(arc, "w") as zf:
        zf.writestr("fine.txt", b"ok")
        zf.writestr(zipfile.ZipInfo(name), b"evil")
    with pytest.raises(UnsafeArchiveError) as e:
        safe_extract(arc, tmp_path / "out")
    assert e.value.member == name
    assert not (tmp_path / "out").exists()


def test_zip_symlink_outside_rejected(tmp_path):
    arc = tmp_path / "link.zip"
    info = zipfile.ZipInfo("link")
    info.external_attr = (0o120777 << 16)
    with zipfile.ZipFile(arc, "w") as zf:
        zf.writestr(info, "../../etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="points outside"):
        safe_extract(arc, tmp_path / "out")


def test_not_an_archive(tmp_path):
    p = tmp_path / "plain.txt"
    p.write_text("hello")
    with pytest.raises(ValueError, match="zip or tar"):
        safe_extract(p, tmp_path / "out")


# ---------------------------------------------------------------------------- issue 12: truncated bodies
class _TruncatingHandler(SimpleHTTPRequestHandler):
    """Announces 27,000 bytes and sends 13,500, then closes the connection."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "27000")
        self.end_headers()
        self.wfile.write(b"x" * 13500)
        self.wfile.flush()
        self.close_connection = True


def test_truncated_body_is_refused(tmp_path, monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _TruncatingHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/big.bin"
        dest = tmp_path / "dl" / "big.bin"
        with pytest.raises(DownloadError, match="announced 27000 bytes.*but sent 13500") as e:
            download_file(url, dest, progress=False)  # no checksum, no size: Content-Length is the only check
        assert url in str(e.value)
        assert list((tmp_path / "dl").iterdir()) == []  # neither the file nor a temp file
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


# ------------------------------------------------------------------------- issue 12: chains of symlinks
CHAINS = {
    # a -> x/.. is the root, so b -> a/.. is the root's parent, and b/evil.txt lands beside dest
    "chain": lambda tf: (_file(tf, "x/keep.txt"), _link(tf, "a", "x/.."), _link(tf, "b", "a/.."),
                         _file(tf, "b/evil.txt", b"evil")),
    "chain-deeper": lambda tf: (_link(tf, "d1", "."), _link(tf, "d2", "d1/d1/d1/.."), _file(tf, "d2/evil.txt")),
    "declared-later": lambda tf: (_link(tf, "a", "x/.."), _link(tf, "x", "."), _file(tf, "a/evil.txt")),
    "dangling-later": lambda tf: (_link(tf, "a", "x/.."), _link(tf, "x", "."), _file(tf, "ok.txt")),
    "loop": lambda tf: (_link(tf, "p", "q"), _link(tf, "q", "p"), _file(tf, "p/f.txt")),
    "hardlink-through-chain": lambda tf: (_link(tf, "a", "x/.."), _link(tf, "b", "a/.."),
                                          _link(tf, "h", "b/outside.txt", tarfile.LNKTYPE)),
}


@pytest.mark.parametrize("without_stdlib_filter", [False, True])
@pytest.mark.parametrize("case", list(CHAINS))
def test_symlink_chains_rejected_before_writing(tmp_path, monkeypatch, case, without_stdlib_filter):
    if without_stdlib_filter:  # as on Python 3.10.0-3.10.11 and 3.11.0-3.11.3
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    arc = _tar_with(tmp_path / "bad.tar.gz", CHAINS[case])
    dest = tmp_path / "box" / "out"
    dest.parent.mkdir()
    with pytest.raises(UnsafeArchiveError):
        safe_extract(arc, dest)
    assert not dest.exists()  # nothing written
    assert not (tmp_path / "box" / "evil.txt").exists()


def test_existing_link_on_disk_pointing_outside_is_refused(tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (dest / "door").symlink_to(tmp_path / "elsewhere")
    arc = _tar_with(tmp_path / "a.tar.gz", lambda tf: _file(tf, "door/evil.txt"))
    with pytest.raises(UnsafeArchiveError, match="door"):
        safe_extract(arc, dest)
    assert not (tmp_path / "elsewhere" / "evil.txt").exists()


def test_chains_that_stay_inside_are_extracted(tmp_path):
    def add(tf):
        _file(tf, "data/real.txt", b"content")
        _link(tf, "l1", "data")
        _link(tf, "l2", "l1/../l1")
        _link(tf, "data/up", "..")
    out = safe_extract(_tar_with(tmp_path / "ok.tar.gz", add), tmp_path / "out")
    assert (tmp_path / "out" / "l2" / "real.txt").read_bytes() == b"content"
    assert (tmp_path / "out" / "data" / "up" / "l1" / "real.txt").read_bytes() == b"content"
    assert len(out) == 4
