"""The documentation a user reads: the README as an entrance, the reference as pages that MkDocs builds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_docs_build_without_a_broken_link_or_a_page_left_out_of_the_menu(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "site" / "booking-rules" / "index.html").is_file()


def test_every_link_of_the_readme_leads_to_a_file_that_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\((?!https?:|#|<)([^)#]+)", readme)
    assert targets, "the README links to its documentation pages"
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert missing == []


def test_the_readme_opens_with_the_two_commands_a_newcomer_types() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    commands = [line for line in first_block.splitlines()[1:] if line and not line.startswith("#")]
    assert len(commands) == 2
    assert commands[0].endswith("slotguard serve --demo")
    assert commands[1] == "scripts/test"
