"""The real pre-commit runs the project's hooks on a real git repository with a broken net."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]

BROKEN = """\
# a deploy net with a misspelt field
name: "tiny"
layer {
  nmae: "data"   # should be name
  type: "Input"
  top: "data"
  input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } }
}
"""


@pytest.fixture(scope="module")
def hook_home(tmp_path_factory) -> dict[str, str]:
    """One pre-commit cache for the module, so the hook environment is built once per repository copy."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    env.pop("PRE_COMMIT", None)
    return env


def git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture
def model_repo(tmp_path, hook_home) -> Path:
    repo = tmp_path / "models"
    repo.mkdir()
    git(repo, "init", "-q", env=hook_home)
    (repo / "deploy.prototxt").write_text(BROKEN, encoding="utf-8")
    git(repo, "add", "deploy.prototxt", env=hook_home)
    return repo


def try_repo(repo: Path, hook: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*PRE_COMMIT, "try-repo", str(REPO), hook, "--all-files", "--verbose"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.e2e
def test_lint_hook_fails_and_prints_findings(model_repo, hook_home):
    result = try_repo(model_repo, "caffelint", hook_home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "deploy.prototxt:4:3: PRS002 [error] unknown-field" in result.stdout
    assert (model_repo / "deploy.prototxt").read_text(encoding="utf-8") == BROKEN


@pytest.mark.e2e
def test_fix_hook_rewrites_once_then_passes(model_repo, hook_home):
    first = try_repo(model_repo, "caffelint-fix", hook_home)
    assert first.returncode == 1, first.stdout + first.stderr
    fixed = (model_repo / "deploy.prototxt").read_text(encoding="utf-8")
    assert fixed == BROKEN.replace("nmae:", "name:")  # the comment and layout are kept
    git(model_repo, "add", "deploy.prototxt", env=hook_home)
    second = try_repo(model_repo, "caffelint-fix", hook_home)
    assert second.returncode == 0, second.stdout + second.stderr
    lint = try_repo(model_repo, "caffelint", hook_home)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_pre_commit_is_installed():
    assert shutil.which("git"), "git is needed by pre-commit"
    result = subprocess.run([*PRE_COMMIT, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("pre-commit ")
