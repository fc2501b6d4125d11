"""Database feed: idempotent monthly replacement with history, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from glob import glob
from pathlib import Path

import pandas as pd
import pytest

sa = pytest.importorskip("sqlalchemy")

from wbe.config import Config  # noqa: E402
from wbe.datasets import simulate  # noqa: E402
from wbe.errors import InputError  # noqa: E402
from wbe.lab.privacy import allow_demo_key  # noqa: E402
from wbe.publish import DEMO_KEY, run_pipeline  # noqa: E402
from wbe.publish.feed import feed_month, feed_tables, read_month  # noqa: E402

MONTH = "2024-02"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A small city (2 plants, 70 days, hair tests) published for February 2024."""
    from wbe.lab import read_lab_results

    city = simulate(seed=5, n_sites=2, days=70, biomarkers=("methamphetamine", "ketamine"))
    raw = city.lab_results
    when = pd.to_datetime(raw["collected_on"])
    keep = (raw["matrix"] == "hair") & (when >= "2024-01-01") & (when < "2024-03-01")
    with allow_demo_key():  # simulated people only
        lab = read_lab_results(raw[keep], key=DEMO_KEY)
    config = Config(seed=5, draws=40, created_at="2025-01-01T00:00:00Z")
    return run_pipeline(sites=city.sites, samples=city.samples, flows=city.flows,
                        config=config, out_dir=tmp_path_factory.mktemp("pub"), lab=lab.data,
                        month=MONTH, quiet=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL cluster in a temp dir on a free port, stopped afterwards.

    As root (CI) the server runs as the ``postgres`` (or ``nobody``) user via ``runuser``.
    """
    pytest.importorskip("psycopg")
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found; "
                    "run .ci/system-packages (apt-get install postgresql)")
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = "postgres" if subprocess.run(["id", "postgres"], capture_output=True,
                                            check=False).returncode == 0 else "nobody"
        prefix = ["runuser", "-u", user, "--"]
    root = Path(tempfile.mkdtemp(prefix="wbe-pg-"))
    root.chmod(0o777)
    data = root / "data"
    port = _free_port()
    run = dict(capture_output=True, text=True, check=True, timeout=120)
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U",
                    "wbe", "--no-sync", "-E", "UTF8"], **run)
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l",
                    str(root / "log"), "-o",
                    f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                    "start"], **run)
    try:
        yield f"postgresql+psycopg://wbe@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, check=False, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = sa.create_engine(f"sqlite:///{tmp_path / 'feed.sqlite'}")
    else:
        url = request.getfixturevalue("postgres_url")
        eng = sa.create_engine(url)
        with eng.begin() as conn:  # a clean schema per test
            for t in ("wbe_history", "wbe_alerts", "wbe_positivity", "wbe_estimates",
                      "wbe_publication"):
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {t}"))
    yield eng
    eng.dispose()


def _counts(db) -> dict[str, int]:
    return {k: len(v) for k, v in db.items()}


def test_publish_then_republish(engine, published):
    n_est, n_pos = len(published.monthly), len(published.positivity)
    n_alert = len(published.alerts)
    assert n_est > 0 and n_pos > 0
    assert feed_month(engine, MONTH, published) == 1
    db = read_month(engine, MONTH)
    assert _counts(db) == {"wbe_publication": 1, "wbe_estimates": n_est,
                           "wbe_positivity": n_pos, "wbe_alerts": n_alert, "wbe_history": 0}
    assert (db["wbe_estimates"]["revision"] == 1).all()
    # values round-trip (NaN <-> NULL)
    got = db["wbe_estimates"].sort_values(["level", "area", "biomarker", "variable"])
    want = published.monthly.sort_values(["level", "area", "biomarker", "variable"])
    assert got["median"].to_numpy() == pytest.approx(want["median"].to_numpy(), rel=1e-12,
                                                     nan_ok=True)
    # suppressed counts stay NULL
    pos = db["wbe_positivity"]
    assert pos["tested"].isna().sum() == published.positivity["tested"].isna().sum()

    # re-publishing the same month replaces, never duplicates, and keeps history
    assert feed_month(engine, MONTH, published) == 2
    db = read_month(engine, MONTH)
    assert _counts(db)["wbe_estimates"] == n_est
    assert _counts(db)["wbe_positivity"] == n_pos
    assert _counts(db)["wbe_history"] == n_est + n_pos + n_alert
    assert set(db["wbe_history"]["revision"]) == {1}
    assert set(db["wbe_history"]["superseded_by"]) == {2}
    assert int(db["wbe_publication"]["revision"].iloc[0]) == 2


def test_revised_values_replace_and_old_ones_kept(engine, published):
    feed_month(engine, MONTH, published)
    revised = published.monthly.assign(median=published.monthly["median"] * 2)
    rev = feed_tables(engine, MONTH, estimates=revised, positivity=published.positivity,
                      alerts=published.alerts)
    assert rev == 2
    db = read_month(engine, MONTH)
    new = db["wbe_estimates"]["median"].dropna().sort_values().to_numpy()
    assert new == pytest.approx(revised["median"].dropna().sort_values().to_numpy(),
                                rel=1e-12)
    old = db["wbe_history"][db["wbe_history"]["table_name"] == "wbe_estimates"]
    assert len(old) == len(published.monthly)
    assert old["row_json"].str.contains('"revision": 1').all()


def test_injected_failure_leaves_previous_revision(engine, published):
    feed_month(engine, MONTH, published)
    before = read_month(engine, MONTH)

    def boom(table: str) -> None:
        if table == "wbe_positivity":  # estimates already replaced at this point
            raise RuntimeError("injected failure mid-write")

    revised = published.monthly.assign(median=published.monthly["median"] + 1)
    with pytest.raises(RuntimeError, match="injected"):
        feed_tables(engine, MONTH, estimates=revised, positivity=published.positivity,
                    alerts=published.alerts, after_table=boom)
    after = read_month(engine, MONTH)
    assert _counts(after) == _counts(before)
    assert int(after["wbe_publication"]["revision"].iloc[0]) == 1
    key = ["level", "area", "biomarker", "variable"]
    pd.testing.assert_frame_equal(after["wbe_estimates"].sort_values(key).reset_index(drop=True),
                                  before["wbe_estimates"].sort_values(key).reset_index(drop=True))
    # and the month can still be published afterwards
    assert feed_month(engine, MONTH, published) == 2


def test_other_month_rows_refused(engine, published):
    wrong = published.monthly.assign(month="2024-01")
    with pytest.raises(InputError, match="another month"):
        feed_tables(engine, MONTH, estimates=wrong, positivity=None, alerts=None)


def test_months_are_independent(engine, published):
    feed_month(engine, MONTH, published)
    other = published.monthly.assign(month="2024-01")
    assert feed_tables(engine, "2024-01", estimates=other, positivity=None, alerts=None) == 1
    assert len(read_month(engine, MONTH)["wbe_estimates"]) == len(published.monthly)
    assert len(read_month(engine, "2024-01")["wbe_estimates"]) == len(published.monthly)
