"""Notifications: real e-mail to a local SMTP server and real JSON to a local webhook,
through the outbox (filters, digests, back-off, nothing sent twice)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.app import app
from config.notify import NotifyConfigError, NotifyTarget, parse_targets
from demo.pages import meta_page
from demo.server import FakeMeta
from notify.deliver import backoff, deliver, next_digest
from notify.message import ChangeNote, change_message, sanitise
from storage.db import open_db
from storage.models import Document, Notification
from storage.models import NotifyTarget as TargetRow
from tests import factories
from tests.conftest import write_sources
from tests.receivers import Mailbox, Webhook, free_port, wait_until

BASE = "https://watch.example.org/pw/"
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
HOSTILE = "Policy\u202e updated\r\nBcc: victim@example.org [click](https://evil.example/) <b>x</b>"


def add_changes(
    url: str,
    count: int,
    *,
    doc: str = "fb",
    categories: list[str] | None = None,
    alert: bool = True,
    trigger: str = "manual",
    title: str = "Facebook Privacy Policy: a change",
) -> list[int]:
    """``count`` stored changes of ``doc`` (a chain of versions), from a run of ``trigger``."""
    with open_db(url)() as session:
        if session.get(Document, doc) is None:
            factories.add_document(session, doc, f"Title of {doc}")
        run = factories.add_run(session, trigger, T0, status="completed")
        previous_text = f"start of {doc} in run {run.id} " * 5
        previous = factories.add_version(session, doc, previous_text, T0)
        ids = []
        for i in range(count):
            text = previous_text + f" edit {i} " + run.id * "x"
            version = factories.add_version(session, doc, text, T0, effective="March 1, 2026")
            change = factories.add_change(
                session,
                previous,
                version,
                previous_text,
                text,
                T0,
                title,
                categories if categories is not None else ["legal-basis", "ai"],
                {"bases": []},
            )
            change.run_id, change.alert = run.id, alert
            ids.append(change.id)
            previous, previous_text = version, text
        session.commit()
    return ids


def statuses(url: str) -> dict[tuple[str, int], str]:
    with open_db(url)() as session:
        rows = session.scalars(select(Notification)).all()
        return {(r.target_id, r.change_id): r.status for r in rows}


# --- configuration --------------------------------------------------------------------


def test_notify_entries_are_validated_and_secrets_stay_out_of_the_file() -> None:
    (target,) = parse_targets(
        [{"id": "mail", "url_env": "PW_MAIL", "mode": "daily", "hour": 7,
          "categories": ["legal-basis"], "documents": ["fb"], "alerts_only": False}],
        ["fb", "fb.fr_FR"],
    )  # fmt: skip
    assert target == NotifyTarget("mail", "PW_MAIL", "daily", 7, ("legal-basis",), ("fb",), False)
    assert target.wants("fb.fr_FR", ["legal-basis"], alert=False, technical=False)
    assert not target.wants("fbx", ["legal-basis"], alert=True, technical=False)
    assert not target.wants("fb", ["ai"], alert=True, technical=False)
    bad = {
        "url": "field 'url' is not allowed",
        "mode": "field 'mode' must be one of each, daily",
        "hour": "field 'hour' must be an hour 0-23",
        "documents": "unknown id(s) nope",
        "categories": "field 'categories': 'Legal Basis' is not a category name",
        "url_env": "field 'url_env' must name an environment variable",
    }
    values = {
        "url": "mailto://u:secret@x", "mode": "weekly", "hour": 25, "documents": ["nope"],
        "categories": ["Legal Basis"], "url_env": "not a name",
    }  # fmt: skip
    for key, message in bad.items():
        entry = {"id": "t", "url_env": "PW_MAIL", key: values[key]}
        if key == "hour":
            entry["mode"] = "daily"
        with pytest.raises(NotifyConfigError, match=re.escape(message)):
            parse_targets([entry], ["fb"])
    with pytest.raises(NotifyConfigError, match="id used twice"):
        parse_targets([{"id": "a", "url_env": "A"}, {"id": "a", "url_env": "B"}], [])


def test_crawled_text_cannot_inject_headers_links_or_invisible_characters() -> None:
    note = ChangeNote(1, "fb", "Facebook\x00 Privacy", HOSTILE, ("ai",), {"ai": HOSTILE},
                      T0, "May 27, 2025\u200b")  # fmt: skip
    message = change_message(note, BASE)
    assert "\n" not in message.title and "\r" not in message.title
    assert "\u202e" not in message.title and message.title.startswith("Policy updated")
    text = message.body()
    assert "\x00" not in text and "\u200b" not in text and "\u202e" not in text
    assert "Effective date: May 27, 2025\n" in text
    assert "Read the change: https://watch.example.org/pw/changes/1.html" in text
    assert "Notification id: pw-change-1" in text
    markdown = message.body(markdown=True)
    assert "[click](https://evil.example/)" not in markdown
    assert r"\[click\]\(https://evil" in markdown
    assert sanitise("x" * 1000, 50).endswith("…") and len(sanitise("x" * 1000, 50)) == 50


def test_back_off_doubles_up_to_six_hours_and_digests_wait_for_their_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff(30) == timedelta(hours=6)
    assert next_digest(T0, 8) == T0.replace(hour=8)
    assert next_digest(T0.replace(hour=9), 8) == T0.replace(hour=8) + timedelta(days=1)


# --- delivery -------------------------------------------------------------------------


def test_each_change_is_mailed_and_posted_once_with_its_title_summary_date_and_link(
    tmp_path: Path,
    db_url: str,
) -> None:
    url = db_url
    targets = [NotifyTarget("mail", "PW_MAIL"), NotifyTarget("hook", "PW_HOOK")]
    with Mailbox() as mailbox, Webhook() as hook:
        env = {"PW_MAIL": mailbox.url(), "PW_HOOK": hook.url}
        deliver(url, targets, BASE, environ=env, now=T0)  # registers the targets
        ids = add_changes(url, 2, title=HOSTILE)
        report = deliver(url, targets, BASE, environ=env, now=T0)
        assert (report.queued, report.sent, report.failed) == (4, 4, 0)
        again = deliver(url, targets, BASE, environ=env, now=T0 + timedelta(hours=1))
        assert (again.queued, again.sent) == (0, 0)

        assert sorted(mailbox.ids()) == sorted(f"pw-change-{i}" for i in ids)
        mail = mailbox.messages[0]
        assert mail["To"] == "watchers@example.org"
        assert mail["Subject"].startswith("Policy updated Bcc: victim@example.org")
        assert mail["Bcc"] is None  # the crawled title did not become a header
        body = mailbox.text(mail)
        assert "Effective date: March 1, 2026" in body
        assert f"{BASE}changes/{ids[0]}.html" in body
        assert "<b>x</b>" not in body  # text is escaped in the HTML mail
        assert sorted(hook.ids()) == sorted(f"pw-change-{i}" for i in ids)
        posted = hook.bodies[0]
        assert (
            posted["title"].startswith("Policy updated")
            and "Categories: legal-basis, ai" in (posted["message"])
        )
    assert set(statuses(url).values()) == {"sent"}


def test_a_failing_target_backs_off_without_holding_up_the_others(
    tmp_path: Path, db_url: str
) -> None:
    url = db_url
    dead = f"json://127.0.0.1:{free_port()}/nobody-listens"
    targets = [NotifyTarget("down", "PW_DOWN"), NotifyTarget("hook", "PW_HOOK")]
    with Webhook() as hook:
        env = {"PW_DOWN": dead, "PW_HOOK": hook.url}
        deliver(url, targets, BASE, environ=env, now=T0)
        ids = add_changes(url, 3)
        first = deliver(url, targets, BASE, environ=env, now=T0)
        assert first.sent == 3 and first.failed == 1 and "down" in first.errors
        assert "nobody-listens" not in first.errors["down"]  # no part of the URL is shown
        assert len(hook.ids()) == 3
        with open_db(url)() as session:
            state = session.get(TargetRow, "down")
            assert state.failures == 1 and state.retry_at == T0 + timedelta(minutes=1)
            row = session.scalars(
                select(Notification).where(Notification.target_id == "down")
                .order_by(Notification.change_id)
            ).first()  # fmt: skip
            assert (row.status, row.attempts) == ("pending", 1) and row.error
        soon = deliver(url, targets, BASE, environ=env, now=T0 + timedelta(seconds=30))
        assert soon.deferred == 1 and soon.failed == 0  # still backing off: not tried
        later = deliver(url, targets, BASE, environ=env, now=T0 + timedelta(minutes=2))
        assert later.failed == 1
        with open_db(url)() as session:
            assert session.get(TargetRow, "down").retry_at == T0 + timedelta(minutes=4)
        env["PW_DOWN"] = hook.url  # the target is back
        back = deliver(url, targets, BASE, environ=env, now=T0 + timedelta(minutes=5))
        assert back.sent == 3
        assert sorted(hook.ids()) == sorted(f"pw-change-{i}" for i in ids * 2)
    assert set(statuses(url).values()) == {"sent"}


def test_a_daily_digest_waits_for_its_hour_and_holds_every_change(
    tmp_path: Path, db_url: str
) -> None:
    url = db_url
    targets = [NotifyTarget("digest", "PW_HOOK", mode="daily", hour=8)]
    with Webhook() as hook:
        env = {"PW_HOOK": hook.url}
        deliver(url, targets, BASE, environ=env, now=T0)
        ids = add_changes(url, 3)
        early = deliver(url, targets, BASE, environ=env, now=T0 + timedelta(hours=1))
        assert early.queued == 3 and early.sent == 0 and hook.bodies == []
        on_time = deliver(url, targets, BASE, environ=env, now=T0 + timedelta(hours=2, minutes=5))
        assert on_time.sent == 1
        (digest,) = hook.bodies
        assert digest["title"] == "policywatch: 3 changes (2026-03-02)"
        assert hook.ids() == [f"pw-change-{i}" for i in ids]


def test_filters_leave_changes_out_and_history_imports_are_never_sent(
    tmp_path: Path, db_url: str
) -> None:
    url = db_url
    targets = [
        NotifyTarget("legal", "PW_HOOK", categories=("legal-basis",)),
        NotifyTarget("wa", "PW_HOOK", documents=("wa",)),
        NotifyTarget("quiet-too", "PW_HOOK", alerts_only=False),
    ]
    with Webhook() as hook:
        env = {"PW_HOOK": hook.url}
        backlog = add_changes(url, 1)  # stored before the targets existed: never sent
        deliver(url, targets, BASE, environ=env, now=T0)
        legal = add_changes(url, 1, categories=["legal-basis"])
        ai = add_changes(url, 1, categories=["ai"])
        quiet = add_changes(url, 1, alert=False)
        replayed = add_changes(url, 1, trigger="replay")
        wa = add_changes(url, 1, doc="wa", categories=[])
        deliver(url, targets, BASE, environ=env, now=T0)
    got = statuses(url)
    sent = {key for key, status in got.items() if status == "sent"}
    assert sent == {
        ("legal", legal[0]), ("legal", quiet[0]),
        ("wa", wa[0]),
        ("quiet-too", legal[0]), ("quiet-too", ai[0]), ("quiet-too", quiet[0]),
        ("quiet-too", wa[0]),
    } - {("legal", quiet[0])}  # fmt: skip
    assert ("legal", replayed[0]) in got and got[("legal", replayed[0])] == "skipped"
    assert not any(change == backlog[0] for _, change in got)
    assert len(hook.ids()) == len(sent)


# --- real processes: killed mid-delivery, overlapping, the CLI ------------------------

BIN = Path(sys.executable).parent


def notify_sources(tmp_path: Path, entries: str) -> Path:
    path = write_sources(tmp_path / "sources.toml", [{"id": "fb", "url": "http://127.0.0.1:9/"}])
    path.write_text(path.read_text("utf-8") + "\n" + entries, encoding="utf-8")
    return path


def notify_process(
    db_url: str, sources: Path, env: dict[str, str], *args: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "policywatch"), "notify", "--sources", str(sources), "--db", db_url,
         "--base-url", BASE, *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


HOOK_ENTRY = '[[notify]]\nid = "hook"\nurl_env = "PW_HOOK"\n'


def test_a_delivery_killed_between_send_and_mark_sent_is_sent_again_with_the_same_id(
    tmp_path: Path,
    db_url: str,
) -> None:
    sources = notify_sources(tmp_path, HOOK_ENTRY)
    with Webhook() as hook:
        env = {"PW_HOOK": hook.url}
        deliver(db_url, [NotifyTarget("hook", "PW_HOOK")], BASE, environ=env)
        ids = add_changes(db_url, 3)
        hook.hold_next = True  # the first message arrives; its answer never does
        process = notify_process(db_url, sources, env)
        try:
            wait_until(hook.held.is_set, 180, "the first message")
            assert statuses(db_url)[("hook", ids[0])] == "sending"
        finally:
            process.kill()  # SIGKILL: no chance to mark anything
            process.communicate(timeout=60)
        hook.release.set()
        assert hook.ids() == [f"pw-change-{ids[0]}"]

        restarted = notify_process(db_url, sources, env, "--json")
        out, errors = restarted.communicate(timeout=300)
        assert restarted.returncode == 0, errors
        assert json.loads(out)["released"] == 1
    received = Counter(hook.ids())
    # at least once: the message in flight when the process died went again, same id
    assert received == {f"pw-change-{ids[0]}": 2, f"pw-change-{ids[1]}": 1,
                        f"pw-change-{ids[2]}": 1}  # fmt: skip
    assert set(statuses(db_url).values()) == {"sent"}


def test_overlapping_deliveries_send_each_change_once(tmp_path: Path, db_url: str) -> None:
    sources = notify_sources(tmp_path, HOOK_ENTRY)
    with Webhook() as hook:
        hook.delay = 0.3  # slow receiver: both processes are delivering at the same time
        env = {"PW_HOOK": hook.url}
        deliver(db_url, [NotifyTarget("hook", "PW_HOOK")], BASE, environ=env)
        ids = add_changes(db_url, 8)
        processes = [notify_process(db_url, sources, env, "--json") for _ in range(2)]
        reports = []
        for process in processes:
            out, errors = process.communicate(timeout=300)
            assert process.returncode == 0, errors
            reports.append(json.loads(out))
    assert Counter(hook.ids()) == Counter(f"pw-change-{i}" for i in ids)
    assert sum(r["sent"] for r in reports) == 8


def test_notify_test_sends_to_each_target_and_names_the_one_that_fails(tmp_path: Path) -> None:
    sources = notify_sources(
        tmp_path,
        HOOK_ENTRY + '\n[[notify]]\nid = "mail"\nurl_env = "PW_MAIL"\nmode = "daily"\nhour = 7\n'
        '\n[[notify]]\nid = "unset"\nurl_env = "PW_NOT_SET"\n',
    )
    runner = CliRunner()
    with Mailbox() as mailbox, Webhook() as hook:
        env = {"PW_HOOK": hook.url, "PW_MAIL": mailbox.url()}
        result = runner.invoke(
            app, ["notify", "--test", "--sources", str(sources), "--json"], env=env
        )
        assert result.exit_code == 1, result.output
        assert json.loads(result.stdout) == {
            "sent": ["hook", "mail"],
            "failed": {"unset": "environment variable PW_NOT_SET is not set"},
        }
        assert hook.bodies[0]["title"] == "policywatch: test notification"
        assert mailbox.messages[0]["Subject"] == "policywatch: test notification"


def test_bad_notify_entries_and_bad_input_exit_2_with_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    secret = notify_sources(tmp_path, '[[notify]]\nid = "x"\nurl = "mailto://u:pw@h"\n')
    result = runner.invoke(app, ["notify", "--sources", str(secret)])
    assert result.exit_code == 2
    assert "field 'url' is not allowed" in result.output and "Traceback" not in result.output
    none = write_sources(tmp_path / "none.toml", [{"id": "fb", "url": "http://127.0.0.1:9/"}])
    result = runner.invoke(app, ["notify", "--sources", str(none)])
    assert result.exit_code == 2 and "has no [[notify]] entries" in result.output


def test_status_shows_undelivered_notifications(tmp_path: Path, db_url: str) -> None:
    url = db_url
    target = NotifyTarget("down", "PW_DOWN")
    env = {"PW_DOWN": f"json://127.0.0.1:{free_port()}/"}
    deliver(url, [target], BASE, environ=env, now=T0)
    add_changes(url, 2)
    deliver(url, [target], BASE, environ=env, now=T0)
    result = CliRunner().invoke(app, ["status", "--db", url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "undelivered notifications" in result.output
    line = next(line for line in result.output.splitlines() if "down" in line)
    assert "│ 2 " in line or " 2 " in line


@pytest.mark.usefixtures("prefect")
def test_a_crawl_sends_its_changes_as_the_monitor_flows_last_step(
    site: FakeMeta, tmp_path: Path, db_url: str
) -> None:
    sources = write_sources(
        tmp_path / "sources.toml", [{"id": "fb", "url": site.url("/privacy/policy/printable/")}]
    )
    sources.write_text(sources.read_text("utf-8") + "\n" + HOOK_ENTRY, encoding="utf-8")
    common = ["--sources", str(sources), "--db", db_url, "--out", str(tmp_path / "pub")]
    policy = "# Privacy Policy\n\nEffective May 27, 2025\n\n" + "We collect information. " * 80
    runner = CliRunner()
    with Webhook() as hook:
        env = {"PW_HOOK": hook.url}
        site.page("/privacy/policy/printable/", meta_page(policy))
        first = runner.invoke(app, ["crawl", *common, "--json"], env=env)
        assert first.exit_code == 0, first.output
        site.page("/privacy/policy/printable/", meta_page(policy.replace("May 27", "June 16")))
        second = runner.invoke(app, ["crawl", *common, "--json"], env=env)
        assert second.exit_code == 0, second.output
        counts = json.loads(second.stdout.strip().splitlines()[-1])
        assert counts["changes"] == 1 and counts["notify_sent"] == 1
        (posted,) = hook.bodies
        assert "June 16, 2025" in posted["title"]
        assert "Effective date: June 16, 2025" in posted["message"]
        assert "/changes/" in posted["message"]
