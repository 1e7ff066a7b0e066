"""One meaning of "latest version" for check, check-update, update and fleet (Copier's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.version import Version
from support import run_scaffold, tiny_template

from scaffold.template.versions import behind, latest


def test_prereleases_count_only_without_a_final_release() -> None:
    offered = [Version("0.1.0"), Version("0.2.0rc1"), Version("0.1.1")]
    assert latest(offered) == Version("0.1.1")
    assert latest([Version("0.1.0rc1"), Version("0.1.0rc2")]) == Version("0.1.0rc2")
    assert behind(offered, Version("0.1.0")) == 1
    assert behind(offered, Version("0.1.1")) == 0


def test_a_release_candidate_tag_does_not_make_a_repo_behind(tmp_path: Path) -> None:
    repo = tmp_path / "template"
    tiny_template(repo, "0.1.0", {"notes.txt": "one\n"})
    tiny_template(repo, "0.2.0rc1", {"notes.txt": "one\ntwo\n"})
    project = tmp_path / "fleet" / "svc"
    made = run_scaffold("new", str(project), "--defaults", "--template", str(repo))
    assert made.code == 0, made.stderr
    assert (project / "notes.txt").read_text() == "one\n", "new takes the final release, as Copier does"

    status = run_scaffold("check-update", str(project), "--format", "json")
    assert status.code == 0 and json.loads(status.stdout) == {
        "current": "0.1.0",
        "latest": "0.1.0",
        "behind": False,
    }
    check = run_scaffold("check", str(project), "--network", "--select", "GP102", "--format", "json")
    assert json.loads(check.stdout)["results"][0]["status"] == "pass"
    update = run_scaffold("update", str(project))
    assert update.code == 0 and "nothing to do" in (update.stdout + update.stderr).lower()
    fleet = json.loads(run_scaffold("fleet", "status", str(tmp_path / "fleet"), "--format", "json").stdout)
    assert [(r["latest"], r["behind"]) for r in fleet["repos"]] == [("0.1.0", 0)]

    tiny_template(repo, "0.2.0", {"notes.txt": "one\ntwo\n"})
    status = run_scaffold("check-update", str(project), "--format", "json")
    assert status.code == 1 and json.loads(status.stdout)["latest"] == "0.2.0"
    check = run_scaffold("check", str(project), "--network", "--select", "GP102", "--format", "json")
    assert json.loads(check.stdout)["results"][0]["status"] == "fail"
    fleet = json.loads(run_scaffold("fleet", "status", str(tmp_path / "fleet"), "--format", "json").stdout)
    assert [(r["latest"], r["behind"]) for r in fleet["repos"]] == [("0.2.0", 1)]


def test_published_versions_skip_yanked_files_and_keep_credentials_out_of_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A PEP 503 page as PyPI, devpi or Artifactory serve it: yanked files (PEP 592) are not
    releases; `user:token@` in the index URL (as pip takes it) goes as basic auth only."""
    import base64
    import http.server
    import threading

    from scaffold.errors import ScaffoldError
    from scaffold.template.versions import published_versions

    page = (
        '<a href="../f/s-0.7.0.whl#sha256=00">scaffold_golden_path-0.7.0-py3-none-any.whl</a>'
        '<a href="../f/s-0.9.0.whl" data-yanked="broken">scaffold_golden_path-0.9.0-py3-none-any.whl</a>'
        '<a href="../f/s-0.8.0.tar.gz" data-requires-python=">=3.11">scaffold_golden_path-0.8.0.tar.gz</a>'
    )
    expected = "Basic " + base64.b64encode(b"__token__:s3cr@t").decode()

    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            allowed = (
                self.headers.get("Authorization") == expected and self.path == "/simple/scaffold-golden-path/"
            )
            self.send_response(200 if allowed else 401)
            self.end_headers()
            if allowed:
                self.wfile.write(page.encode())

        def log_message(self, *_: object) -> None:
            pass

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # a proxy set for CI must not see loopback
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"127.0.0.1:{server.server_address[1]}/simple/"
    try:
        found = published_versions(f"http://__token__:s3cr%40t@{base}", "scaffold-golden-path")
        assert [str(v) for v in found] == ["0.7.0", "0.8.0"], "0.9.0 is yanked"
        with pytest.raises(ScaffoldError) as refused:
            published_versions(f"http://__token__:wrong-SECRET@{base}", "scaffold-golden-path")
        assert "Unauthorized" in str(refused.value) and "SECRET" not in str(refused.value)
    finally:
        server.shutdown()
        server.server_close()
