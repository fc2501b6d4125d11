"""Database feed: idempotent monthly replacement with history, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from glob import glob
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sa = pytest.importorskip("sqlalchemy")

from wbe.config import Config  # noqa: E402
from wbe.datasets import simulate  # noqa: E402
from wbe.errors import InputError  # noqa: E402
from wbe.lab.privacy import allow_demo_key  # noqa: E402
from wbe.publish import DEMO_KEY, run_pipeline  # noqa: E402
from wbe.publish.feed import (  # noqa: E402
    feed_month,
    feed_tables,
    published_positivity,
    read_month,
    suppress_revision_differences,
)

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

    # an identical re-publication (same manifest hash) is a no-op, not a new revision
    assert feed_month(engine, MONTH, published) == 1
    db = read_month(engine, MONTH)
    assert _counts(db)["wbe_history"] == 0
    assert int(db["wbe_publication"]["revision"].iloc[0]) == 1

    # a new run of the month (another manifest) replaces, never duplicates, keeps history
    assert feed_tables(engine, MONTH, estimates=published.monthly,
                       positivity=published.positivity, alerts=published.alerts,
                       manifest_sha256="0" * 64) == 2
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
    assert feed_tables(engine, MONTH, estimates=revised, positivity=published.positivity,
                       alerts=published.alerts) == 2


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


def _concurrent_worker(url: str, month: str, tables: dict, tag: int, barrier, queue) -> None:
    """One publisher process: wait for the others, publish, report the revision or error."""
    try:
        barrier.wait(timeout=120)
        rev = feed_tables(url, month, manifest_sha256=f"{tag:064x}", **tables)
        queue.put((tag, rev, None))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put((tag, None, f"{type(exc).__name__}: {exc}"))


def _publish_concurrently(url: str, month: str, tables: dict, tags: range) -> list[int]:
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    barrier, queue = ctx.Barrier(len(tags)), ctx.Queue()
    procs = [ctx.Process(target=_concurrent_worker,
                         args=(url, month, tables, tag, barrier, queue)) for tag in tags]
    for p in procs:
        p.start()
    results = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [e for _, _, e in results if e]
    assert errors == []
    return sorted(rev for _, rev, _ in results)


def test_concurrent_publications_get_distinct_revisions(engine, published):
    """4 processes publish a month at once, on a fresh database (the first publication
    races) and again on a month that exists: revisions 1..4 then 5..8, each superseded
    revision's rows in the history exactly once."""
    url = engine.url.render_as_string(hide_password=False)
    tables = {"estimates": published.monthly, "positivity": published.positivity,
              "alerts": published.alerts}
    assert _publish_concurrently(url, MONTH, tables, range(1, 5)) == [1, 2, 3, 4]
    assert _publish_concurrently(url, MONTH, tables, range(5, 9)) == [5, 6, 7, 8]
    db = read_month(engine, MONTH)
    assert int(db["wbe_publication"]["revision"].iloc[0]) == 8
    per_revision = len(published.monthly) + len(published.positivity) + len(published.alerts)
    hist = db["wbe_history"]
    assert len(hist) == 7 * per_revision
    pairs = hist[["revision", "superseded_by"]].drop_duplicates()
    assert sorted(map(tuple, pairs.to_numpy().tolist())) == [(r, r + 1) for r in range(1, 8)]
    assert hist.groupby("revision").size().eq(per_revision).all()
    assert (db["wbe_estimates"]["revision"] == 8).all()
    # the manifest stored is the last writer's, and re-sending it is a no-op
    last = db["wbe_publication"]["manifest_sha256"].iloc[0]
    assert feed_tables(engine, MONTH, manifest_sha256=last, **tables) == 8


ALL_SUPPRESSED = "tested,positive,inconclusive,positivity,lower_95,upper_95"


def _cell(tested, positive, inconclusive=0, group="g1", drug="methamphetamine"):
    return {"schema_version": "1.0", "matrix": "hair", "group": group, "month": MONTH,
            "drug": drug, "tested": tested, "positive": positive,
            "inconclusive": inconclusive, "positivity": np.nan, "lower_95": np.nan,
            "upper_95": np.nan, "suppressed": ""}


def _pos(*cells) -> pd.DataFrame:
    frame = pd.DataFrame(list(cells))
    for col in ("tested", "positive", "inconclusive"):
        frame[col] = frame[col].astype("Int64")
    return frame


def test_revision_difference_of_a_small_count_is_suppressed():
    """20 tested / 8 positive, then 22 / 10: the 2 added results (both positive) would
    follow by subtraction, so the new cell is suppressed; a change of 10 tested and
    5 positive (5 negative) is published."""
    earlier = _pos(_cell(20, 8), _cell(30, 10, group="g2")).assign(revision=1)
    new = _pos(_cell(22, 10), _cell(40, 15, group="g2"))
    out = suppress_revision_differences(new, earlier, threshold=5)
    assert out.loc[0, ["tested", "positive", "inconclusive"]].isna().all()
    assert out.loc[0, "suppressed"] == ALL_SUPPRESSED
    assert out.loc[1, ["tested", "positive"]].tolist() == [40, 15]
    assert out.loc[1, "suppressed"] == ""
    # unchanged cells and changes of at least the threshold pass untouched
    same = suppress_revision_differences(_pos(_cell(20, 8)), earlier, threshold=5)
    assert same.loc[0, ["tested", "positive"]].tolist() == [20, 8]


def test_total_published_twice_and_part_suppressed_once():
    """Revision 1 publishes tested 20, positive 8, inconclusive 0; revision 2 suppresses
    positive but publishes tested 23 and inconclusive 0. Then ``tested - inconclusive``
    (positive + negative) grew by 3: suppressed. Revision 3 is compared with revision 1
    too, not only with the suppressed revision 2."""
    r1 = _pos(_cell(20, 8)).assign(revision=1)
    r2 = _pos(_cell(23, None, 0))
    assert suppress_revision_differences(r2, r1, 5)["tested"].isna().all()
    r2_published = suppress_revision_differences(r2, r1, 5).assign(revision=2)
    history = pd.concat([r1, r2_published], ignore_index=True)
    r3 = _pos(_cell(22, 9))
    assert suppress_revision_differences(r3, history, 5)["tested"].isna().all()
    r3_far = _pos(_cell(30, 13))  # +10 tested, +5 positive, +5 negative since r1
    assert suppress_revision_differences(r3_far, history, 5)["tested"].tolist() == [30]


def test_feed_refuses_a_revealing_revision(engine):
    """The feed never stores two revisions whose difference is a small count."""
    first = _pos(_cell(20, 8), _cell(30, 10, group="g2"))
    assert feed_tables(engine, MONTH, estimates=None, positivity=first, alerts=None) == 1
    revealing = _pos(_cell(21, 9), _cell(30, 10, group="g2"))
    with pytest.raises(InputError, match=r"\(hair, g1, methamphetamine\).*fewer than 5"):
        feed_tables(engine, MONTH, estimates=None, positivity=revealing, alerts=None)
    assert int(read_month(engine, MONTH)["wbe_publication"]["revision"].iloc[0]) == 1
    safe = suppress_revision_differences(revealing, published_positivity(engine, MONTH), 5)
    assert feed_tables(engine, MONTH, estimates=None, positivity=safe, alerts=None) == 2
    # every pair of stored revisions differs by 0 or >= 5 in every published count
    rows = published_positivity(engine, MONTH)
    counts = rows[["group", "revision", "tested", "positive"]].dropna()
    for _, g in counts.groupby("group"):
        values = g[["tested", "positive"]].to_numpy(float)
        diffs = np.abs(values[:, None, :] - values[None, :, :])
        assert not ((diffs > 0) & (diffs < 5)).any()


def test_revisions_only_in_the_history_are_compared_too(engine):
    """Revision 2 without a positivity table does not reset the comparison: revision 3
    is still checked against revision 1, now only in ``wbe_history``."""
    first = _pos(_cell(20, 8))
    assert feed_tables(engine, MONTH, estimates=None, positivity=first, alerts=None) == 1
    assert feed_tables(engine, MONTH, estimates=None, positivity=None, alerts=None) == 2
    assert read_month(engine, MONTH)["wbe_positivity"].empty
    earlier = published_positivity(engine, MONTH)
    assert earlier["revision"].tolist() == [1]
    with pytest.raises(InputError, match="would reveal them by subtraction"):
        feed_tables(engine, MONTH, estimates=None, positivity=_pos(_cell(23, 8)), alerts=None)
    assert feed_tables(engine, MONTH, estimates=None, positivity=_pos(_cell(30, 13)),
                       alerts=None) == 3
