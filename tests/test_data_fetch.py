"""`kpdd data fetch`: published files only (sha256), nothing half-written, a second run skips what is
there. The sets are served from a real HTTP server on loopback (the tests' slices standing in for the
public files; no test reaches the internet)."""

from __future__ import annotations

import hashlib
import http.server
import re
import threading
from pathlib import Path

import pytest

from kpdd import cli, data_fetch
from kpdd.data_fetch import DataFile, FetchError, fetch_all
from kpdd.datasets import load_dataset, resolve_data_dir
from tests.conftest import SHARED_DATA, TEST_DATA

SLICE_FILES = ("gsm8k/train.jsonl", "gsm8k/test.jsonl", "svamp/SVAMP.json", "asdiv/ASDiv.xml",
               "multiarith/MultiArith.json")  # fmt: skip


class Server:
    """Serves tests/data; `junk` names paths answered with other bytes; `requests` counts GETs."""

    def __init__(self) -> None:
        self.junk: set[str] = set()
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.lstrip("/")
                outer.requests.append(path)
                body = b"<html>proxy error</html>" if path in outer.junk else (TEST_DATA / path).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def files(self) -> tuple[DataFile, ...]:
        return tuple(
            DataFile(
                path,
                f"{self.url}/{path}",
                hashlib.sha256((TEST_DATA / path).read_bytes()).hexdigest(),
                (TEST_DATA / path).stat().st_size,
                "test",
            )  # fmt: skip
            for path in SLICE_FILES
        )

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    served = Server()
    yield served
    served.close()


def test_fetch_checks_each_file_and_a_second_run_skips_them(server: Server, tmp_path: Path) -> None:
    lines: list[str] = []
    folder = fetch_all(tmp_path / "data", server.files(), log=lines.append)
    assert len(load_dataset("gsm8k-train", folder).problems) == 160
    assert len(load_dataset("asdiv", folder).problems) > 50
    assert len(server.requests) == len(SLICE_FILES) and not list(folder.rglob("*.partial"))
    fetch_all(folder, server.files(), log=lines.append)
    assert len(server.requests) == len(SLICE_FILES)  # nothing downloaded again
    assert lines[-1] == "[5/5] multiarith/MultiArith.json: already there, checked"


def test_a_file_that_is_not_the_published_one_is_refused_and_not_kept(server: Server, tmp_path: Path) -> None:
    server.junk.add("svamp/SVAMP.json")
    with pytest.raises(FetchError, match=r"svamp/SVAMP.json: the download from .* is not the published file"):
        fetch_all(tmp_path, server.files(), log=lambda _line: None)
    assert not (tmp_path / "svamp").exists() or not any((tmp_path / "svamp").iterdir())
    assert (tmp_path / "gsm8k" / "train.jsonl").is_file()  # the others are fetched all the same
    server.junk.clear()
    fetch_all(tmp_path, server.files(), log=lambda _line: None)  # and a second run mends it
    assert len(load_dataset("svamp", tmp_path).problems) == 60


def test_a_server_that_is_not_there_is_named(tmp_path: Path) -> None:
    dead = (DataFile("gsm8k/test.jsonl", "http://127.0.0.1:9/gsm8k/test.jsonl", "0" * 64, 10, "test"),)
    with pytest.raises(FetchError, match="gsm8k/test.jsonl: could not download http://127.0.0.1:9/"):
        fetch_all(tmp_path, dead, log=lambda _line: None)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_cli_fetches_into_the_data_folder_that_evaluation_then_finds(
    server: Server, kpdd_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("KPDD_DATA_DIR", raising=False)
    monkeypatch.setattr(data_fetch, "FILES", server.files())
    assert cli.main(["data", "fetch"]) == 0
    assert f"The data sets are in {kpdd_home / 'data'}." in capsys.readouterr().out
    assert resolve_data_dir() == kpdd_home / "data"
    assert len(load_dataset("multiarith").problems) == 60
    server.junk.add("gsm8k/test.jsonl")
    (kpdd_home / "data" / "gsm8k" / "test.jsonl").unlink()
    assert cli.main(["data", "fetch"]) == 1
    assert "error: 1 of 5 files could not be fetched: gsm8k/test.jsonl" in capsys.readouterr().err


def test_the_pins_are_the_published_files() -> None:
    """Each pin names a commit, and where the full sets are at hand (CI) they hash to the pins."""
    for item in data_fetch.FILES:
        assert re.fullmatch(r"[0-9a-f]{64}", item.sha256) and re.search(r"/[0-9a-f]{40}/", item.url), item
    if SHARED_DATA.is_dir():
        for item in data_fetch.FILES:
            assert data_fetch.is_fetched(SHARED_DATA, item), item.path
