"""Reads from Python equal the CLI's `--json` on the same registry, field for field.

`status`, `models` with each filter, `show` by spec, `name@latest`, record id and slot,
`history` with its filters and `drift`, each result's `to_dict()` compared with `reg ... --json`;
results are frozen, keep the JSON's members as attributes and round-trip through `from_dict`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from conftest import ACTIVE, DEPRECATED, NEWER, REVOKED, SLOT, Site

from reg_governance import DriftEntry, DriftList, InvalidInput, LogEntry, Model, ModelRecord, SlotStatus


def as_json(result: Any) -> Any:
    """A result (or a list of results) as the JSON value it stands for."""
    if isinstance(result, list):
        return [as_json(r) for r in result]
    return result.to_dict()


def test_status_equals_the_cli(site: Site, registry: Any) -> None:
    status = registry.status()
    assert isinstance(status, list) and all(isinstance(s, SlotStatus) for s in status)
    assert as_json(status) == site.cli_json("status")
    [s] = status
    assert (s.slot, s.name, s.version, s.state) == (SLOT, "ransomware-detector", "1.0.0", "PROMOTED")


def test_status_of_a_registry_without_slots(site: Site, registry: Any) -> None:
    site.cli("deactivate", SLOT, "--reason", "maintenance", "--key", str(site.key("operator")))
    from reg_governance import Registry

    assert as_json(Registry.open(site.registry).status()) == site.cli_json("status")


FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({}, []),
    ({"state": "promoted"}, ["--state", "promoted"]),
    ({"state": "REVOKED"}, ["--state", "REVOKED"]),
    ({"state": ["registered", "deprecated"]}, ["--state", "registered", "--state", "deprecated"]),
    ({"state": "registered,deprecated"}, ["--state", "registered,deprecated"]),
    ({"name": "ransomware-detector"}, ["--name", "ransomware-detector"]),
    ({"type": "ruleset"}, ["--type", "ruleset"]),
    ({"type": "dl"}, ["--type", "dl"]),
    ({"uses": ["classification"]}, ["--use", "classification"]),
    ({"uses": ["classification", "detection"]}, ["--use", "classification", "--use", "detection"]),
    ({"labels": {"team": "dfir"}}, ["--label", "team=dfir"]),
    ({"labels": {"team": "mail"}, "state": "revoked"}, ["--label", "team=mail", "--state", "revoked"]),
    ({"name": "no-such-model"}, ["--name", "no-such-model"]),
]


@pytest.mark.parametrize("kw,args", FILTERS, ids=[" ".join(a) or "all" for _, a in FILTERS])
def test_models_equal_the_cli(site: Site, registry: Any, kw: dict[str, Any], args: list[str]) -> None:
    models = registry.models(**kw)
    assert all(isinstance(m, Model) for m in models)
    assert as_json(models) == site.cli_json("list", *args)


def test_models_by_publisher(site: Site, registry: Any) -> None:
    fp = site.cli("key", "fingerprint", str(site.key("publisher")) + ".pub").stdout.strip()
    for prefix in (fp, fp[:8]):
        models = registry.models(publisher=prefix)
        assert len(models) == 4
        assert as_json(models) == site.cli_json("list", "--publisher", prefix)
    root = site.cli("key", "fingerprint", str(site.key("root")) + ".pub").stdout.strip()
    assert as_json(registry.models(publisher=root)) == site.cli_json("list", "--publisher", root) == []


def test_models_with_a_bad_filter_raise_the_cli_error(site: Site, registry: Any) -> None:
    # The CLI's parser words this one itself; the rule (and the exit code) is the same.
    site.cli("list", "--state", "approved", codes=(2,))
    with pytest.raises(InvalidInput) as caught:
        registry.models(state="approved")
    assert caught.value.exit_code == 2
    assert "approved" in caught.value.message


SPECS = [ACTIVE, NEWER, REVOKED, DEPRECATED, "ransomware-detector@latest", "phish-rules"]


@pytest.mark.parametrize("spec", SPECS)
def test_show_equals_the_cli(site: Site, registry: Any, spec: str) -> None:
    record = registry.show(spec)
    assert isinstance(record, ModelRecord)
    assert record.to_dict() == site.cli_json("show", spec)


def test_show_latest_names_the_newest_and_a_record_id_or_prefix_works(
    site: Site, registry: Any
) -> None:
    latest = registry.show("ransomware-detector@latest")
    assert (latest.name, latest.version) == ("ransomware-detector", "1.1.0")
    assert latest == registry.show(NEWER)
    by_id = registry.show(latest.id)
    assert by_id == latest
    assert registry.show(latest.id[:12]).to_dict() == site.cli_json("show", latest.id[:12])


def test_show_by_slot_equals_the_cli(site: Site, registry: Any) -> None:
    record = registry.show(slot=SLOT)
    assert record.to_dict() == site.cli_json("show", "--slot", SLOT)
    assert (record.name, record.version, record.state) == ("ransomware-detector", "1.0.0", "PROMOTED")
    # The members a loader needs, as attributes and in the JSON.
    paths = sorted(a["path"] for a in record.to_dict()["artifacts"])
    assert paths == ["config.json", "model.safetensors"]
    assert len(record.artifacts) == 2


def test_show_refusals_equal_the_cli(site: Site, registry: Any) -> None:
    for args, kw in (
        (["no-such@1.0.0"], {"spec": "no-such@1.0.0"}),
        (["--slot", "no-such-slot"], {"slot": "no-such-slot"}),
        (["ransomware-detector"], {"spec": "ransomware-detector"}),  # two versions: ambiguous
    ):
        message, hint = site.cli_error("show", *args, code=2)
        with pytest.raises(InvalidInput) as caught:
            registry.show(**kw)
        e = caught.value
        assert (e.message, e.hint, e.exit_code) == (message, hint, 2)


HISTORY: list[tuple[tuple[str, ...], dict[str, Any], list[str]]] = [
    ((), {}, []),
    ((ACTIVE,), {}, [ACTIVE]),
    (("ransomware-detector@latest",), {}, ["ransomware-detector@latest"]),
    ((), {"slot": SLOT}, ["--slot", SLOT]),
    ((), {"max_count": 3}, ["-n", "3"]),
    ((ACTIVE,), {"max_count": 1}, [ACTIVE, "-n", "1"]),
    ((), {"since": "2026-01-01T00:00:00Z"}, ["--since", "2026-01-01T00:00:00Z"]),
    ((), {"since": "2027-01-01T00:00:00Z"}, ["--since", "2027-01-01T00:00:00Z"]),
    ((), {"actor": "operator"}, ["--actor", "operator"]),
    ((REVOKED,), {"actor": "operator"}, [REVOKED, "--actor", "operator"]),
]


@pytest.mark.parametrize("args,kw,cli", HISTORY, ids=[" ".join(c) or "all" for _, _, c in HISTORY])
def test_history_equals_the_cli(
    site: Site, registry: Any, args: tuple[str, ...], kw: dict[str, Any], cli: list[str]
) -> None:
    entries = registry.history(*args, **kw)
    assert all(isinstance(e, LogEntry) for e in entries)
    assert as_json(entries) == site.cli_json("log", *cli)


def test_history_by_actor_fingerprint(site: Site, registry: Any) -> None:
    fp = site.cli("key", "fingerprint", str(site.key("reporter")) + ".pub").stdout.strip()
    entries = registry.history(actor=fp[:8])
    assert [e.kind for e in entries] == ["drift"]
    assert as_json(entries) == site.cli_json("log", "--actor", fp[:8])


@pytest.mark.parametrize(
    "args,kw,cli",
    [
        ((ACTIVE,), {}, [ACTIVE]),
        ((), {"slot": SLOT}, ["--slot", SLOT]),
        (("ransomware-detector@latest",), {}, ["ransomware-detector@latest"]),
    ],
)
def test_drift_equals_the_cli(
    site: Site, registry: Any, args: tuple[str, ...], kw: dict[str, Any], cli: list[str]
) -> None:
    drift: DriftList = registry.drift(*args, **kw)
    assert isinstance(drift, list) and all(isinstance(d, DriftEntry) for d in drift)
    assert as_json(drift) == site.cli_json("drift", "list", *cli)
    # The template recorded one observation, of the active model (@latest is the newer one).
    assert [d.spec for d in drift] == ([] if "@latest" in "".join(args) else [ACTIVE])


def test_results_are_frozen_and_round_trip(registry: Any) -> None:
    for result in (
        registry.status()[0],
        registry.models()[0],
        registry.show(ACTIVE),
        registry.history(ACTIVE)[0],
        registry.drift(ACTIVE)[0],
    ):
        data = result.to_dict()
        assert type(result).from_dict(data) == result
        # to_dict hands out a copy: changing it changes nothing.
        if isinstance(data, dict):
            data["injected"] = True
            assert "injected" not in result.to_dict()
        if dataclasses.is_dataclass(result):
            field = dataclasses.fields(result)[0].name
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(result, field, None)


def test_to_dict_is_a_deep_copy(registry: Any) -> None:
    """A caller that edits a nested member of `to_dict()` (an artifact, the trust, the
    observation) changes its copy only: the result still says what the registry said."""
    record = registry.show(ACTIVE)
    data = record.to_dict()
    data["artifacts"][0]["path"] = "edited"
    data["trust"]["pinned"] = False
    data["history"].clear()
    again = record.to_dict()
    assert again["artifacts"][0]["path"] == record.artifacts[0].path != "edited"
    assert again["trust"]["pinned"] is True and again["history"]
    [drift] = registry.drift(ACTIVE)
    observation = drift.to_dict()["observation"]
    observation["injected"] = True
    assert "injected" not in drift.to_dict()["observation"]
