"""Benchmark word_diff on real consecutive Facebook privacy-policy versions.

Run: ``python bench/diff_bench.py [--runs N]``. For each pair of versions it times
``changes.diff.word_diff`` (median of N runs) and, as a baseline in the same process,
plain character-level diff-match-patch with its default ``Diff_Timeout = 1`` s, and says
whether the baseline hit its deadline (its diff is then not minimal) and how many of its
edits start or end inside a word. It also times ``normalise_markdown`` per document.
Data: demo/data (Platform Governance Archive, ODC-BY 1.0, see demo/data/ATTRIBUTION.md).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

try:
    from diff_match_patch import diff_match_patch
except ImportError:  # the baseline is pure-Python diff-match-patch: the bench extra
    sys.exit("bench/diff_bench.py needs the bench extra: pip install -e '.[bench]'")

from changes.diff import diff_stats, tokenize, word_diff  # noqa: E402
from changes.extract import normalise_markdown  # noqa: E402
from changes.links import canonical_url  # noqa: E402
from pipeline.archive import read_archive  # noqa: E402
from tests.corpus import load_corpus, recorded_on  # noqa: E402

DOCUMENT = "facebook-privacy-policy-en"
PAGE = "https://mbasic.facebook.com/privacy/policy/printable/"
# The recorded days with the largest real changes (each against the version before it).
DAYS = {
    "2024-06-26": "AI legal basis added",
    "2025-05-28": "AI legitimate interest added",
    "2025-11-08": "token noise only",
    "2025-12-17": "new policy, tables to sections",
    "2026-01-15": "full render back",
    "2026-07-24": "new policy, partial render",
    "2026-08-22": "full render back (290 KB raw)",
}
WORD = re.compile(r"\w")


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []  # CPU time: the machine may be shared, the work is single-threaded
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def _char_dmp(old: str, new: str) -> tuple[list[tuple[int, str]], float, bool]:
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 1.0
    start = time.perf_counter()
    diffs = dmp.diff_main(old, new)
    dmp.diff_cleanupSemantic(diffs)
    elapsed = time.perf_counter() - start
    return diffs, elapsed * 1000, elapsed >= dmp.Diff_Timeout


def _mid_word_edges(diffs: list[tuple[int, str]]) -> int:
    """Edits of the baseline that begin or end inside a word."""
    count = 0
    for k, (op, text) in enumerate(diffs):
        if op == 0 or not text:
            continue
        before = diffs[k - 1][1][-1:] if k else ""
        after = diffs[k + 1][1][:1] if k + 1 < len(diffs) else ""
        if (before and WORD.match(before) and WORD.match(text[0])) or (
            after and WORD.match(after) and WORD.match(text[-1])
        ):
            count += 1
    return count


def _one_megabyte() -> str:
    """1,000,000 characters of real policy text: the newest, then the oldest, version of
    every recorded history (demo/data and eval/corpus, ODC-BY 1.0), so that most lines are
    distinct, as in one very long policy."""
    archives = sorted(ROOT.glob("demo/data/*.tar.xz")) + sorted(ROOT.glob("eval/corpus/*.tar.xz"))
    histories = [read_archive(path) for path in archives]
    texts = [normalise_markdown(h[-1].text) for h in histories]
    texts += [normalise_markdown(h[0].text) for h in histories]
    text = "".join(texts)
    if len(text) < 1_000_000:
        sys.exit(f"bench/diff_bench.py found only {len(text)} characters of recorded text")
    return text[:1_000_000]


def synthetic_1mb(runs: int) -> None:
    """1 MB of real policy text against itself with 5% of its words replaced at random
    places. Target: under 200 ms, never cut short. Baselines in the same command: splitting
    both texts into tokens (the floor any word diff pays) and character diff-match-patch."""
    old = _one_megabyte()
    rng = random.Random(7)
    tokens = re.split(r"(\W+)", old)
    words = [i for i, t in enumerate(tokens) if t and t[0].isalnum()]
    for i in rng.sample(words, len(words) // 20):
        tokens[i] = rng.choice(["data", "privacy", "Meta", "model", "consent", "information"])
    new = "".join(tokens)
    ops = word_diff(old, new)
    assert "".join(t for k, t in ops if k != "+") == old  # complete: never cut short
    assert "".join(t for k, t in ops if k != "-") == new
    ms = _median_ms(lambda: word_diff(old, new), runs)
    floor = _median_ms(lambda: (tokenize(old), tokenize(new)), runs)
    _, char_ms, timed_out = _char_dmp(old, new)
    print(
        f"\nsynthetic: {len(old) / 1e6:.1f} MB, {len(words) // 20} of {len(words)} words "
        f"replaced at random: word_diff {ms:.0f} ms CPU (target < 200 ms: {ms / 200:.2f}x of "
        f"it); tokenising both texts alone {floor:.0f} ms ({ms / floor:.1f}x); character "
        f"diff-match-patch {char_ms:.0f} ms{' (timed out: not minimal)' if timed_out else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    args = parser.parse_args()
    runs = max(1, args.runs)

    versions = load_corpus(DOCUMENT)
    print(f"{DOCUMENT}: {len(versions)} recorded versions\n")

    header = (
        f"{'day':<11} {'change':<31} {'old KB':>7} {'new KB':>7} {'+words':>7} {'-words':>7}"
        f" {'word_diff ms':>12} {'char dmp ms':>11} {'timed out':>9} {'mid-word':>8}"
        f" {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for day, label in DAYS.items():
        i = recorded_on(versions, day)
        old = normalise_markdown(versions[i - 1].text, PAGE)
        new = normalise_markdown(versions[i].text, PAGE)
        stats = diff_stats(word_diff(old, new))
        ours = _median_ms(lambda old=old, new=new: word_diff(old, new), runs)
        baseline = [_char_dmp(old, new) for _ in range(max(1, min(runs, 3)))]
        base_ms = statistics.median(b[1] for b in baseline)
        timed_out = any(b[2] for b in baseline)
        mid_word = _mid_word_edges(baseline[0][0])
        print(
            f"{day:<11} {label:<31} {len(old) / 1000:>7.1f} {len(new) / 1000:>7.1f}"
            f" {stats.words_added:>7} {stats.words_removed:>7} {ours:>12.1f} {base_ms:>11.1f}"
            f" {'yes' if timed_out else 'no':>9} {mid_word:>8} {base_ms / ours:>6.1f}"
        )

    synthetic_1mb(runs)

    print("\nnormalise_markdown per document (raw recorded Markdown):")
    sample = versions[:: max(1, len(versions) // 50)]
    canonical_url.cache_clear()
    start = time.perf_counter()
    for version in sample:
        normalise_markdown(version.text, PAGE)
    cold = (time.perf_counter() - start) * 1000 / len(sample)
    per_doc = [_median_ms(lambda text=v.text: normalise_markdown(text, PAGE), runs) for v in sample]
    sizes = [len(v.text) for v in sample]
    print(
        f"  {len(sample)} documents, {min(sizes) / 1000:.0f}-{max(sizes) / 1000:.0f} KB:"
        f" median {statistics.median(per_doc):.1f} ms, max {max(per_doc):.1f} ms"
        f" (link cache warm); {cold:.1f} ms/document with a cold link cache"
    )


if __name__ == "__main__":
    main()
