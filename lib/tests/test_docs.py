"""Docs generated from code: bin/ecs/lint --list-rules prints every rule from the rules themselves, and the
journal's generated blocks are exactly what the code prints (make docs rewrites them)."""

from __future__ import annotations

import subprocess

import pytest

from cruddur_kit import REPO_ROOT, docs
from cruddur_kit.checks.lint import RULES


def test_every_rule_says_what_it_checks_and_its_fix():
    assert len(RULES) == len({r.id for r in RULES}) >= 34
    for r in RULES:
        assert r.doc and r.fix and r.seed and r.kind, r.id
        assert not r.fix.startswith("Fix:") and "\n" not in r.doc + r.fix, r.id


def test_list_rules_prints_every_rule_from_the_rules():
    result = subprocess.run(
        [str(REPO_ROOT / "bin/ecs/lint"), "--list-rules"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `")]
    assert len(rows) == len(RULES)
    for r, row in zip(RULES, rows, strict=True):
        assert row.startswith(f"| `{r.id}` | {r.kind} | {r.doc} | {r.fix} |"), row


@pytest.mark.parametrize("rel", list(docs.BLOCKS))
def test_the_journal_s_generated_block_is_what_the_code_says(rel):
    text = (REPO_ROOT / rel).read_text()
    assert docs.expected(rel, text) == text, f"{rel} is stale: run make docs"


def test_a_stale_block_is_found_and_rewritten(tmp_path, monkeypatch):
    rel = "journal/2026-11-24-checks.md"
    monkeypatch.setattr(docs, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(docs, "BLOCKS", {rel: docs.BLOCKS[rel]})
    (tmp_path / rel).parent.mkdir(parents=True)
    good = (REPO_ROOT / rel).read_text()
    (tmp_path / rel).write_text(good.replace("| `image.pinned` |", "| `image.unpinned` |"))
    assert docs.stale() == [rel]
    assert docs.write() == [rel] and (tmp_path / rel).read_text() == good
