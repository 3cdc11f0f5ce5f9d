"""A document in several locales: each locale is fetched with its Accept-Language and URL,
has its own history and feed, and is classified in its own language (a French page carries
French legal bases)."""

from __future__ import annotations

from pathlib import Path

import feedparser
from sqlalchemy import select

from config.run import RunConfig
from demo.server import FakeMeta
from storage.db import open_db
from storage.models import Change, Document
from tests.conftest import write_sources
from tests.factories import run_steps

FILLER = " ".join(f"mot{i}" for i in range(80))


def page(*paragraphs: str) -> str:
    body = "".join(p if p.startswith("<") else f"<p>{p}</p>" for p in (*paragraphs, FILLER))
    return f"<html><body><div id='root'>{body}</div></body></html>"


CONTRACT_FR = "<h2>Exécution d’un contrat</h2><ul><li>Fournir les Produits Meta</li></ul>"
INTERESTS_FR = "<h2>Intérêts légitimes</h2><ul><li>Développer et améliorer l’IA chez Meta</li></ul>"


def test_each_locale_is_its_own_document(tmp_path: Path, db_url: str, site: FakeMeta) -> None:
    site.page("/policy", page("We process your information."))
    site.page("/policy?locale=fr_FR", page("Nous traitons vos informations.", CONTRACT_FR))
    site.page("/policy?locale=de_DE", page("Wir verarbeiten deine Informationen."))
    sources = write_sources(
        tmp_path / "sources.toml",
        [
            {
                "id": "fb-policy",
                "url": site.url("/policy"),
                "locales": ["fr_FR", "de_DE"],
                "locale_url": site.url("/policy?locale={locale}"),
            }
        ],
    )
    cfg = RunConfig(
        db_url=db_url,
        sources_path=str(sources),
        out_dir=str(tmp_path / "public"),
        base_url="https://pw.example/",
    )

    assert run_steps(cfg)["new"] == 3
    assert site.headers["/policy?locale=fr_FR"]["Accept-Language"] == "fr-FR,fr;q=0.9,en;q=0.5"
    assert site.headers["/policy?locale=de_DE"]["Accept-Language"].startswith("de-DE")
    site.page(
        "/policy?locale=fr_FR", page("Nous traitons vos informations.", CONTRACT_FR, INTERESTS_FR)
    )
    assert run_steps(cfg)["changes"] == 1
    with open_db(cfg.db_url)() as s:
        fr = s.get(Document, "fb-policy.fr_FR")
        assert fr is not None and (fr.locale, fr.group_id) == ("fr_FR", "fb-policy")
        change = s.scalars(select(Change)).one()
        assert change.document_id == "fb-policy.fr_FR"
        assert "legal-basis" in change.categories  # read in French: "Intérêts légitimes"
    own = feedparser.parse((Path(cfg.out_dir) / "documents" / "fb-policy.fr_FR.atom").read_bytes())
    other = feedparser.parse((Path(cfg.out_dir) / "documents" / "fb-policy.atom").read_bytes())
    assert len(own.entries) == 1 and len(other.entries) == 0
