"""Feed a month's estimates, positivity and alerts to the monitoring database (SQLAlchemy).

SQLite by default (``sqlite:///wbe-feed.sqlite``), PostgreSQL by URL
(``postgresql+psycopg://user@host/db``). Publishing a month is idempotent: in ONE
transaction, taken with a write lock that serialises concurrent writers, the month's
current rows are copied to ``wbe_history``, deleted and replaced, and the month's revision
counter in ``wbe_publication`` is raised; a failure anywhere rolls everything back, so a
month is never half-written. Re-publishing an identical run (same manifest hash) writes
nothing. A positivity cell whose change since any earlier revision is a small count is
refused (:func:`suppress_revision_differences`). Table layouts: ``docs/output-schemas.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["FEED_SCHEMA_VERSION", "feed_month", "feed_tables", "published_positivity",
           "read_month", "suppress_revision_differences"]

#: Version of the database layout.
FEED_SCHEMA_VERSION = "1.0"

_EST_KEY = ("month", "level", "area", "biomarker", "variable")
_EST_TEXT = ("drug", "units", "population_method", "schema_version")
_EST_INT = ("samples", "days_in_month", "days_below_loq")
_EST_BOOL = ("coverage_ok",)
_EST_FLOAT = ("median", "lower_50", "upper_50", "lower_95", "upper_95",
              "vs_prev_month_ratio_median", "vs_prev_month_ratio_lower_95",
              "vs_prev_month_ratio_upper_95", "vs_prev_month_prob_increase",
              "vs_prev_year_ratio_median", "vs_prev_year_ratio_lower_95",
              "vs_prev_year_ratio_upper_95", "vs_prev_year_prob_increase", "population")
_POS_KEY = ("month", "matrix", "group", "drug")
_POS_INT = ("tested", "positive", "inconclusive")
_POS_FLOAT = ("positivity", "lower_95", "upper_95")
_POS_TEXT = ("suppressed", "schema_version")
_ALERT_KEY = ("alert_id",)
_ALERT_TEXT = ("schema_version", "created_at", "site", "biomarker", "date", "method",
               "parameters", "severity", "direction", "status")
_ALERT_FLOAT = ("observed", "expected", "upper_bound", "exceedance_ratio", "p_value")
_ALERT_BOOL = ("provisional",)


def _metadata():
    import sqlalchemy as sa

    md = sa.MetaData()

    def cols(key, text=(), ints=(), floats=(), bools=()):
        out = [sa.Column(k, sa.String(64), primary_key=True) for k in key]
        out += [sa.Column("revision", sa.Integer, nullable=False)]
        out += [sa.Column(c, sa.Text) for c in text]
        out += [sa.Column(c, sa.Integer) for c in ints]
        out += [sa.Column(c, sa.Float) for c in floats]
        out += [sa.Column(c, sa.Boolean) for c in bools]
        return out

    sa.Table("wbe_publication", md,
             sa.Column("month", sa.String(7), primary_key=True),
             sa.Column("revision", sa.Integer, nullable=False),
             sa.Column("manifest_sha256", sa.String(64)),
             sa.Column("feed_schema_version", sa.String(8), nullable=False))
    sa.Table("wbe_estimates", md, *cols(_EST_KEY, _EST_TEXT, _EST_INT, _EST_FLOAT, _EST_BOOL))
    sa.Table("wbe_positivity", md, *cols(_POS_KEY, _POS_TEXT, _POS_INT, _POS_FLOAT))
    sa.Table("wbe_alerts", md, sa.Column("month", sa.String(7), nullable=False, index=True),
             *cols(_ALERT_KEY, _ALERT_TEXT, (), _ALERT_FLOAT, _ALERT_BOOL))
    sa.Table("wbe_history", md,
             sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
             sa.Column("table_name", sa.String(32), nullable=False),
             sa.Column("month", sa.String(7), nullable=False, index=True),
             sa.Column("revision", sa.Integer, nullable=False),
             sa.Column("superseded_by", sa.Integer, nullable=False),
             sa.Column("row_json", sa.Text, nullable=False))
    return md


def _plain(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _engine(url_or_engine):
    """An engine from a URL, or the engine given."""
    import sqlalchemy as sa

    return sa.create_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine


def _rows(frame: pd.DataFrame | None, columns, month: str, revision: int) -> list[dict]:
    if frame is None or frame.empty:
        return []
    records = []
    for rec in frame.to_dict("records"):
        row = {c: _plain(rec.get(c)) for c in columns}
        if "parameters" in row and not isinstance(row["parameters"], str | None):
            row["parameters"] = json.dumps(row["parameters"], sort_keys=True, default=str)
        row["revision"] = revision
        if "month" in columns:
            row["month"] = month
        records.append(row)
    return records


def _check_month(frame: pd.DataFrame | None, month: str, column: str, name: str) -> None:
    from wbe.errors import InputError

    if frame is None or frame.empty:
        return
    values = frame[column].astype(str).str[:7]
    bad = values != month
    if bad.any():
        raise InputError(f"{name} holds rows of another month ({values[bad].iloc[0]!r}); "
                         f"expected only {month!r}", file=name, column=column)


#: Fixed key of the PostgreSQL transaction-level advisory lock taken by every feed writer.
_PG_LOCK_KEY = 0x77626546  # "wbeF"
#: SQLite busy timeout while waiting for another feed writer [ms].
_SQLITE_BUSY_MS = 120_000


def _lock(conn) -> None:
    """Serialise feed writers from the first statement of the transaction.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before anything is read
    (Python's sqlite3 module would otherwise run the revision ``SELECT`` outside any
    transaction, so concurrent writers read the same revision); a writer waits up to
    ``_SQLITE_BUSY_MS`` for the lock. PostgreSQL: ``pg_advisory_xact_lock``, held until
    commit or rollback, which also covers the first publication of a month (no row to
    lock yet) and the creation of the tables. Other databases: ``SELECT ... FOR UPDATE``
    of the month's row only (the first publication of a month may then race).
    """
    import sqlalchemy as sa

    name = conn.dialect.name
    if name == "sqlite":
        busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0
        if busy < _SQLITE_BUSY_MS:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")
        if not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        # else: an engine that began the transaction itself (a deferred one); a
        # conflicting writer then fails with "database is locked" instead of waiting
    elif name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


#: Outcome classes of a positivity cell; ``negative = tested - positive - inconclusive``.
_CLASSES = ("positive", "inconclusive", "negative")


def _class_unions(frame: pd.DataFrame) -> pd.DataFrame:
    """Every count a reader can compute from a published positivity cell.

    The number of subjects in each non-empty union of the outcome classes positive,
    inconclusive and negative (7 counts; the union of all three is ``tested``, a union
    of two is ``tested`` minus the third), NaN where a needed count is suppressed.
    """
    t = pd.to_numeric(frame["tested"], errors="coerce").astype(float)
    p = pd.to_numeric(frame["positive"], errors="coerce").astype(float)
    i = pd.to_numeric(frame["inconclusive"], errors="coerce").astype(float)
    n = t - p - i
    return pd.DataFrame({"positive": p, "inconclusive": i, "negative": n,
                         "positive+inconclusive": t - n, "positive+negative": t - i,
                         "inconclusive+negative": t - p, "tested": t}, index=frame.index)


def _revealing(positivity: pd.DataFrame, earlier: pd.DataFrame, threshold: int) -> np.ndarray:
    """Rows of ``positivity`` whose change since a row of ``earlier`` is a small count."""
    reveal = np.zeros(len(positivity), dtype=bool)
    if earlier is None or earlier.empty or positivity.empty:
        return reveal
    key = ["matrix", "group", "drug"]
    new = positivity.reset_index(drop=True)
    old = earlier.reset_index(drop=True)
    new_c, old_c = _class_unions(new), _class_unions(old)
    cell_new = pd.MultiIndex.from_frame(new[key].astype(str))
    cell_old = pd.MultiIndex.from_frame(old[key].astype(str))
    for j in range(len(old)):
        rows = np.flatnonzero(cell_new == cell_old[j])
        if rows.size == 0:
            continue
        diff = (new_c.iloc[rows] - old_c.iloc[j]).abs().to_numpy(float)
        small = (diff > 0) & (diff < threshold)  # NaN (not published) compares False
        reveal[rows] |= small.any(axis=1)
    return reveal


def suppress_revision_differences(positivity: pd.DataFrame | None, earlier: pd.DataFrame,
                                  threshold: int) -> pd.DataFrame | None:
    """Suppress positivity cells whose change since an earlier revision is a small count.

    Parameters
    ----------
    positivity : pandas.DataFrame or None
        The month's new positivity table (:func:`wbe.publish.lab_positivity_table`,
        already suppressed within itself).
    earlier : pandas.DataFrame
        Every earlier published revision of the month's positivity rows
        (:func:`published_positivity`), with a ``revision`` column.
    threshold : int
        Smallest publishable non-zero count [persons], as in the table's own
        suppression.

    Returns
    -------
    pandas.DataFrame or None
        A copy in which every cell (``matrix, group, drug``) that would reveal a small
        count by subtraction has ``tested``, ``positive``, ``inconclusive`` set to
        ``<NA>``, ``positivity`` and its interval to NaN and ``suppressed`` listing them
        (``"tested,positive,inconclusive,positivity,lower_95,upper_95"``).

    Notes
    -----
    *What is protected.* Someone holding two revisions :math:`r < s` of a month (the
    feed keeps every superseded row in ``wbe_history``; releases are downloaded) can
    subtract a cell's published counts. The difference describes the subjects added to
    (minus those removed from) the cell between the revisions: with late results
    arriving it is exactly the table of the newcomers, for example "the 2 results added
    since revision 1 are both positive". A count :math:`c` is any number of subjects a
    reader can compute from one revision of the cell: each union of the outcome classes
    positive, inconclusive, negative (so ``tested``, ``positive``, ``tested -
    positive``, ...), wherever its parts are published. The new revision's cell is
    suppressed as a whole when, for some earlier revision in which the same count was
    published, :math:`0 < |c_s - c_r| < t`: the threshold rule applied to the table of
    differences. A suppressed cell keeps being compared with all published revisions
    (not only the last), so alternating suppression cannot be used to recover it.

    *Not covered*: differences between months, matrices, or groups (the table has no
    totals across cells), between the feed and other publications, and revisions that
    were never fed to the database (a release published with ``--no-feed`` is not
    known here).
    """
    if positivity is None or positivity.empty or earlier is None or earlier.empty:
        return positivity
    reveal = _revealing(positivity, earlier, threshold)
    if not reveal.any():
        return positivity
    new = positivity.reset_index(drop=True)
    out = new.copy()
    for col in ("tested", "positive", "inconclusive"):
        out[col] = out[col].astype("Int64")
        out.loc[reveal, col] = pd.NA
    derived = [c for c in ("positivity", "lower_95", "upper_95") if c in out]
    for col in derived:
        out.loc[reveal, col] = np.nan
    out.loc[reveal, "suppressed"] = ",".join(["tested", "positive", "inconclusive", *derived])
    out.index = positivity.index
    return out


def _earlier_positivity(conn, md, month: str) -> pd.DataFrame:
    """Current and superseded ``wbe_positivity`` rows of ``month`` (every revision)."""
    import sqlalchemy as sa

    pos, hist = md.tables["wbe_positivity"], md.tables["wbe_history"]
    current = pd.DataFrame(conn.execute(sa.select(pos).where(pos.c.month == month))
                           .mappings().all(), columns=[c.name for c in pos.columns])
    old = conn.execute(sa.select(hist.c.row_json).where(
        (hist.c.month == month) & (hist.c.table_name == "wbe_positivity"))).scalars().all()
    if not old:
        return current
    superseded = pd.DataFrame([json.loads(r) for r in old]).reindex(columns=current.columns)
    return superseded if current.empty else pd.concat([current, superseded],
                                                      ignore_index=True)


def published_positivity(url_or_engine, month: str) -> pd.DataFrame:
    """Every positivity row of ``month`` ever published in the feed, with its revision.

    Parameters
    ----------
    url_or_engine : str or sqlalchemy.engine.Engine
        Database URL or engine.
    month : str
        ``"YYYY-MM"``.

    Returns
    -------
    pandas.DataFrame
        ``wbe_positivity`` columns, current and superseded rows (empty if none); the
        input of :func:`suppress_revision_differences`.
    """
    engine = _engine(url_or_engine)
    md = _metadata()
    with engine.connect() as conn:
        if not _has_tables(conn, ("wbe_positivity", "wbe_history")):
            return pd.DataFrame(columns=[c.name for c in md.tables["wbe_positivity"].columns])
        return _earlier_positivity(conn, md, month)


def _has_tables(conn, names) -> bool:
    """Whether every table of ``names`` exists."""
    import sqlalchemy as sa

    have = set(sa.inspect(conn).get_table_names())
    return all(n in have for n in names)


def feed_tables(url_or_engine, month: str, *, estimates: pd.DataFrame | None,
                positivity: pd.DataFrame | None, alerts: pd.DataFrame | None,
                manifest_sha256: str | None = None,
                after_table: Callable[[str], None] | None = None,
                suppression_threshold: int = 5) -> int:
    """Replace one month's rows in the database in one transaction; return the revision.

    Parameters
    ----------
    url_or_engine : str or sqlalchemy.engine.Engine
        SQLAlchemy URL (``sqlite:///path.sqlite``, ``postgresql+psycopg://...``) or engine.
    month : str
        ``"YYYY-MM"``.
    estimates, positivity, alerts : pandas.DataFrame or None
        The month's tables (:func:`wbe.publish.monthly_estimates`,
        :func:`wbe.publish.lab_positivity_table`, :func:`wbe.models.alerts`), only rows
        of ``month``.
    manifest_sha256 : str, optional
        Hash of the run manifest, stored with the revision. If the month's current
        revision has the same hash, nothing is written (an identical re-publication).
    after_table : callable, optional
        Called with each table name after its rows are written, inside the transaction
        (for progress, and for tests that inject a failure mid-write).
    suppression_threshold : int, default 5
        Small-cell threshold of the positivity table [persons]; the feed refuses a
        revision whose positivity cells differ from an earlier revision's by a small
        count (:func:`suppress_revision_differences`).

    Returns
    -------
    int
        The month's revision after the call (1 for the first publication; unchanged for
        an identical re-publication).

    Raises
    ------
    InputError
        If a table holds rows of another month, or if a positivity cell would reveal a
        suppressed count by subtraction from an earlier revision (apply
        :func:`suppress_revision_differences` with :func:`published_positivity` first;
        ``wbe publish`` does).
    sqlalchemy.exc.SQLAlchemyError
        Database errors; the transaction is rolled back and the month keeps its previous
        revision and rows.

    Notes
    -----
    Steps, all in one transaction: serialise writers (SQLite ``BEGIN IMMEDIATE``;
    PostgreSQL ``pg_advisory_xact_lock``; ``SELECT ... FOR UPDATE`` elsewhere); create the
    tables if missing; read the month's ``wbe_publication`` row (stop here if the
    manifest hash is the same); check the positivity cells against every earlier
    revision; copy the month's rows of ``wbe_estimates``, ``wbe_positivity`` and
    ``wbe_alerts`` to ``wbe_history`` as JSON with their revision and the superseding
    revision; delete them; insert the new rows with the new revision; raise the revision.
    Concurrent writers of one month thus get distinct, increasing revisions and every
    superseded row reaches the history. Primary keys (``docs/output-schemas.md``) make a
    duplicated row impossible.
    """
    return _feed(url_or_engine, month, estimates=estimates, positivity=positivity,
                 alerts=alerts, manifest_sha256=manifest_sha256, after_table=after_table,
                 suppression_threshold=suppression_threshold)[0]


def _feed(url_or_engine, month: str, *, estimates, positivity, alerts, manifest_sha256,
          after_table, suppression_threshold) -> tuple[int, bool]:
    """:func:`feed_tables`, also saying whether anything was written."""
    import sqlalchemy as sa

    from wbe.errors import InputError

    _check_month(estimates, month, "month", "estimates")
    _check_month(positivity, month, "month", "positivity")
    _check_month(alerts, month, "date", "alerts")
    engine = _engine(url_or_engine)
    md = _metadata()
    pub, hist = md.tables["wbe_publication"], md.tables["wbe_history"]
    specs = {
        "wbe_estimates": (estimates, (*_EST_KEY, *_EST_TEXT, *_EST_INT, *_EST_FLOAT,
                                      *_EST_BOOL)),
        "wbe_positivity": (positivity, (*_POS_KEY, *_POS_TEXT, *_POS_INT, *_POS_FLOAT)),
        "wbe_alerts": (alerts, ("month", *_ALERT_KEY, *_ALERT_TEXT, *_ALERT_FLOAT,
                                *_ALERT_BOOL)),
    }
    with engine.begin() as conn:
        _lock(conn)
        md.create_all(conn)
        current = conn.execute(sa.select(pub.c.revision, pub.c.manifest_sha256)
                               .where(pub.c.month == month).with_for_update()).one_or_none()
        if (current is not None and manifest_sha256 is not None
                and current.manifest_sha256 == manifest_sha256):
            return int(current.revision), False
        if positivity is not None and not positivity.empty:
            earlier = _earlier_positivity(conn, md, month)
            reveal = _revealing(positivity, earlier, suppression_threshold)
            if reveal.any():
                bad = positivity.iloc[int(np.flatnonzero(reveal)[0])]
                raise InputError(
                    f"positivity cell ({bad['matrix']}, {bad['group']}, {bad['drug']}) of "
                    f"{month} differs from an earlier revision by fewer than "
                    f"{suppression_threshold} persons and would reveal them by subtraction; "
                    "suppress it first (suppress_revision_differences with "
                    "published_positivity; wbe publish does this). Nothing was written.",
                    file="positivity", column="tested")
        revision = 1 if current is None else int(current.revision) + 1
        if current is None:
            conn.execute(pub.insert().values(month=month, revision=0,
                                             feed_schema_version=FEED_SCHEMA_VERSION))
        for name, (frame, columns) in specs.items():
            table = md.tables[name]
            old = conn.execute(sa.select(table).where(table.c.month == month)).mappings()
            history = [{"table_name": name, "month": month, "revision": r["revision"],
                        "superseded_by": revision,
                        "row_json": json.dumps(dict(r), sort_keys=True, default=str)}
                       for r in old]
            if history:
                conn.execute(hist.insert(), history)
            conn.execute(table.delete().where(table.c.month == month))
            rows = _rows(frame, columns, month, revision)
            if rows:
                conn.execute(table.insert(), rows)
            if after_table is not None:
                after_table(name)
        conn.execute(pub.update().where(pub.c.month == month).values(
            revision=revision, manifest_sha256=manifest_sha256,
            feed_schema_version=FEED_SCHEMA_VERSION))
    return revision, True


def feed_month(url_or_engine, month: str, result) -> int:
    """Feed the outputs of a :class:`wbe.publish.PublishResult` of ``month``.

    Parameters
    ----------
    url_or_engine : str or sqlalchemy.engine.Engine
        Database URL or engine.
    month : str
        ``"YYYY-MM"``.
    result : wbe.publish.PublishResult
        Run of :func:`wbe.publish.run_pipeline` with ``month=month`` (its
        ``suppression_threshold`` is used for the revision check of
        :func:`feed_tables`).

    Returns
    -------
    int
        The month's revision after the call (unchanged if the same manifest was fed
        before).
    """
    return feed_result(url_or_engine, month, result)[0]


def feed_result(url_or_engine, month: str, result) -> tuple[int, bool]:
    """:func:`feed_month`, also saying whether a new revision was written."""
    from wbe.publish.manifest import file_sha256

    man = result.files.get("manifest")
    return _feed(url_or_engine, month, estimates=result.monthly,
                 positivity=result.positivity, alerts=result.alerts,
                 manifest_sha256=file_sha256(man) if man else None, after_table=None,
                 suppression_threshold=result.suppression_threshold)


def read_month(url_or_engine, month: str) -> dict[str, pd.DataFrame]:
    """The month's current rows of every feed table and its history, as DataFrames."""
    import sqlalchemy as sa

    engine = _engine(url_or_engine)
    md = _metadata()
    out = {}
    with engine.connect() as conn:
        have = set(sa.inspect(conn).get_table_names())
        for name, table in md.tables.items():
            rows = []
            if name in have:
                q = sa.select(table).where(table.c.month == month)
                rows = conn.execute(q).mappings().all()
            out[name] = pd.DataFrame(rows, columns=[c.name for c in table.columns])
    return out
