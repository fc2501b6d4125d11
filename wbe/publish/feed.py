"""Feed a month's estimates, positivity and alerts to the monitoring database (SQLAlchemy).

SQLite by default (``sqlite:///wbe-feed.sqlite``), PostgreSQL by URL
(``postgresql+psycopg://user@host/db``). Publishing a month is idempotent: in ONE
transaction the month's current rows are copied to ``wbe_history``, deleted and replaced,
and the month's revision counter in ``wbe_publication`` is raised; a failure anywhere rolls
everything back, so a month is never half-written. Table layouts: ``docs/output-schemas.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pandas as pd

__all__ = ["FEED_SCHEMA_VERSION", "feed_month", "feed_tables", "read_month"]

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


def feed_tables(url_or_engine, month: str, *, estimates: pd.DataFrame | None,
                positivity: pd.DataFrame | None, alerts: pd.DataFrame | None,
                manifest_sha256: str | None = None,
                after_table: Callable[[str], None] | None = None) -> int:
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
        Hash of the run manifest, stored with the revision.
    after_table : callable, optional
        Called with each table name after its rows are written, inside the transaction
        (for progress, and for tests that inject a failure mid-write).

    Returns
    -------
    int
        The month's new revision (1 for the first publication).

    Raises
    ------
    InputError
        If a table holds rows of another month.
    sqlalchemy.exc.SQLAlchemyError
        Database errors; the transaction is rolled back and the month keeps its previous
        revision and rows.

    Notes
    -----
    Steps, all in one transaction: lock (PostgreSQL ``SELECT ... FOR UPDATE``) or create the
    month's ``wbe_publication`` row; copy its rows of ``wbe_estimates``, ``wbe_positivity``
    and ``wbe_alerts`` to ``wbe_history`` as JSON with their revision and the superseding
    revision; delete them; insert the new rows with the new revision; raise the revision.
    Primary keys (``docs/output-schemas.md``) make a duplicated row impossible.
    """
    import sqlalchemy as sa

    _check_month(estimates, month, "month", "estimates")
    _check_month(positivity, month, "month", "positivity")
    _check_month(alerts, month, "date", "alerts")
    engine = _engine(url_or_engine)
    md = _metadata()
    md.create_all(engine)
    pub, hist = md.tables["wbe_publication"], md.tables["wbe_history"]
    specs = {
        "wbe_estimates": (estimates, (*_EST_KEY, *_EST_TEXT, *_EST_INT, *_EST_FLOAT,
                                      *_EST_BOOL)),
        "wbe_positivity": (positivity, (*_POS_KEY, *_POS_TEXT, *_POS_INT, *_POS_FLOAT)),
        "wbe_alerts": (alerts, ("month", *_ALERT_KEY, *_ALERT_TEXT, *_ALERT_FLOAT,
                                *_ALERT_BOOL)),
    }
    with engine.begin() as conn:
        current = conn.execute(sa.select(pub.c.revision).where(pub.c.month == month)
                               .with_for_update()).scalar_one_or_none()
        revision = 1 if current is None else current + 1
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
    return revision


def feed_month(url_or_engine, month: str, result) -> int:
    """Feed the outputs of a :class:`wbe.publish.PublishResult` of ``month``.

    Parameters
    ----------
    url_or_engine : str or sqlalchemy.engine.Engine
        Database URL or engine.
    month : str
        ``"YYYY-MM"``.
    result : wbe.publish.PublishResult
        Run of :func:`wbe.publish.run_pipeline` with ``month=month``.

    Returns
    -------
    int
        The month's new revision.
    """
    from wbe.publish.manifest import file_sha256

    man = result.files.get("manifest")
    return feed_tables(url_or_engine, month, estimates=result.monthly,
                       positivity=result.positivity, alerts=result.alerts,
                       manifest_sha256=file_sha256(man) if man else None)


def read_month(url_or_engine, month: str) -> dict[str, pd.DataFrame]:
    """The month's current rows of every feed table and its history, as DataFrames."""
    import sqlalchemy as sa

    engine = _engine(url_or_engine)
    md = _metadata()
    md.create_all(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in md.tables.items():
            q = sa.select(table).where(table.c.month == month)
            out[name] = pd.DataFrame(conn.execute(q).mappings().all(),
                                     columns=[c.name for c in table.columns])
    return out
