"""Databases from before the revision ids were renamed (issue 16) upgrade, downgrade and say so.

tests/data/migrations/seeds_main_0011.sqlite is what main made at 6f700e4 with `archive load seeds/`:
alembic_version holds the old id 0011. Every other old id is stamped into a database of today's schema
at the revision it names, as an older archive would have left it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import text

from archive import db
from archive.cli import main
from archive.migrations.renamed import RENAMED, new_name
from tests.dbcheck import all_rows

MADE_BY_MAIN = Path(__file__).parent / "data" / "migrations" / "seeds_main_0011.sqlite"
HEAD = "0012_search_hashsize"
CHAIN = sorted(RENAMED.items(), key=lambda old_new: old_new[1])  # (old id, new id) in upgrade order


def run(url: str, *args: str):
    return CliRunner().invoke(main, ["--db", url, *args])


def stamp(engine, old_id: str) -> None:
    """Store an old id, as the archive did before the renaming."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": old_id})


@pytest.fixture
def made_by_main(tmp_path) -> str:
    path = tmp_path / "archive.db"
    shutil.copy(MADE_BY_MAIN, path)
    return f"sqlite:///{path}"


def test_the_new_ids_are_the_file_names_in_chain_order():
    scripts = ScriptDirectory.from_config(db.alembic_config())
    chain = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    # the renamed ids come first; revisions added since have their new-style ids from the start
    assert [new for _, new in CHAIN] == chain[: len(CHAIN)]
    assert chain == sorted(p.stem for p in Path(db.migrations_dir(), "versions").glob("0*.py"))
    assert chain[-1] == HEAD == db.head_revision()
    assert new_name("0002") == "0005_search_index" and new_name(HEAD) == HEAD and new_name(None) is None


def test_a_database_main_made_upgrades_with_its_data(made_by_main, tmp_path):
    before = all_rows(made_by_main)
    assert run(made_by_main, "db", "current").stdout == "0011\n"
    refused = run(made_by_main, "stats")
    assert refused.exit_code == 1
    assert refused.stderr == f"Error: database {made_by_main} is at revision 0011, not {HEAD}: run 'archive db upgrade'\n"

    up = run(made_by_main, "db", "upgrade")
    assert up.exit_code == 0, up.output
    renamed, backup, done = up.stdout.splitlines()
    assert renamed == f"revision 0011 is now named {CHAIN[-1][1]}"
    assert backup.startswith("backup of the database before the upgrade: ")
    assert done == f"at revision {HEAD}"
    assert run(made_by_main, "db", "upgrade").stdout == f"already at revision {HEAD}\n"
    assert run(made_by_main, "db", "check").stdout == "schema matches the models\n"
    assert all_rows(made_by_main) == before

    # it reads and searches as the same page loaded today does
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert run(fresh, "load", str(Path(__file__).parent.parent / "seeds")).exit_code == 0
    for command in (["stats"], ["search", "民警", "--format", "json"], ["search", "警", "--format", "json"]):
        assert run(made_by_main, *command).stdout == run(fresh, *command).stdout
    assert len(run(made_by_main, "search", "民警").stdout.splitlines()) > 10


def test_a_downgrade_from_an_old_id_counts_what_it_drops(made_by_main):
    # "0002" stored by an older archive is the search index (now 0005), not 0002_bi_views: the losses
    # are those of going down from 0005_search_index to 0003_article_page_fields
    assert run(made_by_main, "db", "upgrade").exit_code == 0
    engine = db.make_engine(made_by_main)
    db.downgrade(engine, "0005_search_index")
    stamp(engine, "0002")
    engine.dispose()
    refused = run(made_by_main, "db", "downgrade", "0003_article_page_fields")
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        "Error: downgrade to 0003_article_page_fields would drop data that upgrading again does not bring back: "
        "source.format (1 values); give --yes"
    )
    done = run(made_by_main, "db", "downgrade", "0003_article_page_fields", "--yes")
    assert done.exit_code == 0, done.output
    assert "at revision 0003_article_page_fields" in done.stdout.splitlines()


def test_every_old_id_upgrades_and_downgrades(db_url, seed_dir):
    """Each step of the chain taken from a database that stores the old id of where it starts, up and
    then down again, on a loaded archive."""
    assert run(db_url, "load", str(seed_dir)).exit_code == 0
    found = run(db_url, "search", "民警", "--format", "json").stdout
    engine = db.make_engine(db_url)
    texts = _paragraphs(engine)
    for (old, new), (_, lower) in zip(reversed(CHAIN), reversed(CHAIN[:-1])):
        stamp(engine, old)
        db.downgrade(engine, lower)
        assert db.current_revision(engine) == lower, old
    for (old, new), (_, higher) in zip(CHAIN, CHAIN[1:]):
        stamp(engine, old)
        db.upgrade(engine, higher)
        assert db.current_revision(engine) == higher, old
    stamp(engine, CHAIN[-1][0])
    db.upgrade(engine)
    assert db.current_revision(engine) == HEAD
    assert _paragraphs(engine) == texts
    engine.dispose()
    assert run(db_url, "search", "民警", "--format", "json").stdout == found and '"total": 17' in found


def _paragraphs(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(text("SELECT id, article_id, ordinal, text FROM paragraph ORDER BY id")).all()
