"""Notes that say the real cause, in plain text (issue 16, item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wbe.backcalc import back_calculate
from wbe.io import read_flows, read_samples, read_sites
from wbe.publish._pipeline import _plain
from wbe.publish.tables import monthly_draws

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"


@pytest.fixture(scope="module")
def messages() -> list[str]:
    sites = read_sites(str(DATA / "sites.csv")).data
    samples = read_samples(str(DATA / "samples.csv"), sites=sites).data
    flows = read_flows(str(DATA / "flows.csv"), sites=sites).data
    # the default parameter set has no typical dose for ketamine and norketamine and no
    # doses per user per day for any drug (see wbe.datasets parameter CSVs)
    # (non_abuse=None: the example measures morphine, whose default treatment warns)
    ds = back_calculate(samples, sites, flows, parameters="default", n_draws=20, seed=1,
                        non_abuse=None)
    return monthly_draws(ds, sites, seed=1)[2]


def test_missing_typical_dose_is_named_as_the_cause(messages):
    doses = [m for m in messages if m.startswith("doses") and "not estimated" in m]
    assert len(doses) == 1, messages
    note = doses[0]
    assert "ketamine" in note and "typical dose" in note and "'default'" in note
    assert "fewer than" not in note
    # January and February are fully sampled: no coverage note blames their days (only
    # the single day of March sampled in the example is thin)
    thin = [m for m in messages if "fewer than" in m]
    assert thin and not any("2024-01" in m or "2024-02" in m for m in thin), thin
    assert not any("ketamine" in m for m in thin if m.startswith("doses")), thin


def test_users_note_names_the_missing_doses_per_user(messages):
    users = [m for m in messages if m.startswith("users") and "not estimated" in m]
    assert len(users) == 1, messages
    assert "doses per user per day" in users[0] and "any drug" in users[0]
    assert "typical dose" not in users[0]  # most drugs have one; not the cause


def test_notes_are_plain_text(messages):
    assert not any("np." in m for m in messages), messages
    assert _plain("site np.str_('城东污水处理厂') has np.int64(3) days") == \
        "site '城东污水处理厂' has 3 days"
