"""Every reference in the code and the docs resolves: a path names a file of the repository,
``path.py: name`` and ``package.module.name`` name something that module defines, and
"decision NNNN" names a decision record whose heading carries that number."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "cli", "config", "changes", "storage", "spiders", "feeds", "notify", "export", "pipeline",
    "flows", "demo", "eval", "bench", "scripts", "tests", "docs",
)  # fmt: skip
EXTENSIONS = "py|md|toml|html|sh|rnc|css|js|json|tsv|txt|ini|mako"

#: ``changes/extract.py`` or ``changes/extract.py: extract`` (optionally ``name.attr``)
PATH = re.compile(
    rf"(?<![\w./-])((?:{'|'.join(PACKAGES)})/[\w./-]*?\.(?:{EXTENSIONS}))\b"
    r"(?::\s*`?([A-Za-z_][\w]*)(?:\.\w+)?\b(?!')(?![ ]\w))?"
)
#: ``storage.repo.sync_documents``: a dotted name starting with a package of the project
DOTTED = re.compile(
    rf"`((?:{'|'.join(p for p in PACKAGES if p not in ('docs', 'scripts'))})"
    r"(?:\.[A-Za-z_]\w*)+)`"
)
DECISION = re.compile(r"\b[Dd]ecisions? ((?:\d{4}(?:,? (?:and )?)?)+)")


def sources() -> list[Path]:
    """The files people read: README, docs, and every Python file of the project."""
    found = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for package in PACKAGES:
        if package != "docs":
            found += sorted((ROOT / package).rglob("*.py"))
    here = Path(__file__).resolve()  # its own examples of broken references are on purpose
    return [p for p in found if ".venv" not in p.parts and p != here]


def defines(module: Path, name: str) -> bool:
    text = module.read_text(encoding="utf-8")
    pattern = rf"^\s*(?:async\s+)?(?:def|class)\s+{name}\b|^\s*{name}\s*[:=]|import .*\b{name}\b"
    return re.search(pattern, text, re.M) is not None


def resolve_dotted(dotted: str) -> bool:
    """``a.b.c``: a module a/b/c.py or a/b/c/, or a name c defined in a/b.py."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        module = base.with_suffix(".py")
        rest = parts[cut:]
        if module.is_file() or (base / "__init__.py").is_file():
            if not rest:
                return True
            target = module if module.is_file() else base / "__init__.py"
            return defines(target, rest[0])
    return False


def broken_references() -> list[str]:
    broken = []
    for source in sources():
        text = source.read_text(encoding="utf-8")
        where = source.relative_to(ROOT)
        for match in PATH.finditer(text):
            rel, name = match.groups()
            if "*" in rel or "<" in rel or Path(rel).stem.isdigit():
                continue  # a pattern, a placeholder, or a page of the site (changes/2.html)
            target = ROOT / rel
            if not target.exists():
                broken.append(f"{where}: {rel} does not exist")
            elif name and target.suffix == ".py" and not defines(target, name):
                broken.append(f"{where}: {rel} defines no {name}")
        if source.suffix == ".md":
            for match in DOTTED.finditer(text):
                if re.search(rf"\.(?:{EXTENSIONS})$", match.group(1)):
                    continue  # a file name (`notify.py`), not a module path
                if not resolve_dotted(match.group(1)):
                    broken.append(f"{where}: {match.group(1)} names nothing")
        for match in DECISION.finditer(text):
            for number in re.findall(r"\d{4}", match.group(1)):
                if not list((ROOT / "docs" / "decisions").glob(f"{number}-*.md")):
                    broken.append(f"{where}: decision {number} does not exist")
    return broken


def test_every_reference_resolves() -> None:
    assert broken_references() == []


def test_decision_records_are_headed_with_their_own_number() -> None:
    for record in sorted((ROOT / "docs" / "decisions").glob("[0-9]*.md")):
        heading = record.read_text(encoding="utf-8").splitlines()[0]
        assert heading.startswith(f"# {record.name[:4]}"), f"{record.name}: {heading!r}"


def test_the_check_finds_broken_references(tmp_path: Path) -> None:
    assert PATH.search("(demo/pages.py: Meta's markup)").groups() == ("demo/pages.py", None)
    assert PATH.search("see `changes/nothing.py: extract`").groups() == (
        "changes/nothing.py",
        "extract",
    )
    assert not (ROOT / "changes/nothing.py").exists()
    assert defines(ROOT / "changes" / "extract.py", "extract")
    assert not defines(ROOT / "changes" / "extract.py", "no_such_function")
    assert resolve_dotted("storage.repo.sync_documents")
    assert not resolve_dotted("storage.repo.no_such_thing")
    assert DECISION.search("decisions 0004 and 0007").group(1) == "0004 and 0007"
