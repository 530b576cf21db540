"""Writes from Python sign the same entries as the CLI: each result equals `reg ... --json`.

Each write runs in Python on one copy of the registry and with the CLI on an identical twin
(each with its own host records, the same keys and the same clock): the entries are
deterministic (ed25519, `SOURCE_DATE_EPOCH`), so the two write results must be equal, and so
must the registries afterwards. Refusals carry the CLI's message, hint and exit code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import ACTIVE, DEPRECATED, NEWER, SLOT, Host, Site

from reg_governance import InvalidInput, IOFailure, Refused, Registry, WriteResult

OBSERVATION = {
    "baseline": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "window": {"start": "2026-11-08T00:00:00Z", "end": "2026-11-15T00:00:00Z"},
    "samples": 1000,
    "metrics": [{"name": "verdict-rate", "kind": "js", "value": 0.05, "threshold": 0.1}],
}

Write = Callable[[Registry, Site], WriteResult]

# name -> (CLI commands run on both twins first, the Python write, the same write's CLI args)
CASES: dict[str, tuple[list[list[str]], Write, list[str]]] = {
    "promote": (
        [],
        lambda r, s: r.promote(NEWER, "passed evaluation", s.key("operator")),
        ["promote", NEWER, "--reason", "passed evaluation", "--key", "keys/operator.pem"],
    ),
    "promote-deprecated": (
        [],
        lambda r, s: r.promote(DEPRECATED, "reinstated", str(s.key("operator"))),
        ["promote", DEPRECATED, "--reason", "reinstated", "--key", "keys/operator.pem"],
    ),
    "deprecate": (
        [],
        lambda r, s: r.deprecate(ACTIVE, "1.1 under evaluation", s.key("operator")),
        ["deprecate", ACTIVE, "--reason", "1.1 under evaluation", "--key", "keys/operator.pem"],
    ),
    "revoke": (
        [],
        lambda r, s: r.revoke(NEWER, "withdrawn by the publisher", s.key("operator")),
        ["revoke", NEWER, "--reason", "withdrawn by the publisher", "--key", "keys/operator.pem"],
    ),
    "revoke-deactivate": (
        [],
        lambda r, s: r.revoke(ACTIVE, "compromised", s.key("operator"), deactivate=True),
        ["revoke", ACTIVE, "--reason", "compromised", "--key", "keys/operator.pem", "--deactivate"],
    ),
    "revoke-replace-deny-bytes": (
        [["promote", NEWER, "--reason", "ok", "--key", "keys/operator.pem"]],
        lambda r, s: r.revoke(
            ACTIVE, "compromised", s.key("operator"), replace=NEWER, deny_bytes=True
        ),
        [
            "revoke", ACTIVE, "--reason", "compromised", "--key", "keys/operator.pem",
            "--replace", NEWER, "--deny-bytes",
        ],
    ),
    "activate": (
        [["promote", NEWER, "--reason", "ok", "--key", "keys/operator.pem"]],
        lambda r, s: r.activate(SLOT, "ransomware-detector@latest", "roll 1.1 out", s.key("operator")),
        [
            "activate", SLOT, "ransomware-detector@latest", "--reason", "roll 1.1 out",
            "--key", "keys/operator.pem",
        ],
    ),
    "activate-new-slot": (
        [],
        lambda r, s: r.activate("canary", ACTIVE, "canary", s.key("operator")),
        ["activate", "canary", ACTIVE, "--reason", "canary", "--key", "keys/operator.pem"],
    ),
    "deactivate": (
        [],
        lambda r, s: r.deactivate(SLOT, "maintenance", s.key("operator")),
        ["deactivate", SLOT, "--reason", "maintenance", "--key", "keys/operator.pem"],
    ),
    "record-drift-mapping": (
        [],
        lambda r, s: r.record_drift(ACTIVE, OBSERVATION, s.key("reporter")),
        ["drift", "record", ACTIVE, "obs.json", "--key", "keys/reporter.pem"],
    ),
    "record-drift-text-by-slot": (
        [],
        lambda r, s: r.record_drift(
            None, (s.work / "obs.json").read_text(), s.key("reporter"), slot=SLOT
        ),
        ["drift", "record", "--slot", SLOT, "obs.json", "--key", "keys/reporter.pem"],
    ),
}


def twins(site: Site, setup: list[list[str]]) -> tuple[tuple[Path, Host], tuple[Path, Host]]:
    (site.work / "obs.json").write_text(json.dumps(OBSERVATION, sort_keys=True))
    a, b = site.twin("py"), site.twin("cli")
    for args in setup:
        for reg, host in (a, b):
            site.cli(*args, registry=reg, host=host)
    return a, b


def ledger_of(reg: Path) -> list[str]:
    """The registry's entry ids, in order."""
    return (reg / ".registry" / "ledger").read_text().splitlines()


@pytest.mark.parametrize("name", list(CASES))
def test_each_write_equals_the_cli_on_a_twin(site: Site, name: str) -> None:
    setup, write, cli_args = CASES[name]
    (a, ha), (b, hb) = twins(site, setup)
    with site.as_host(ha):
        result = write(Registry.open(a), site)
    assert isinstance(result, WriteResult)
    expected = site.cli_json(*cli_args, registry=b, host=hb)
    assert result.to_dict() == expected
    assert result.written is True and result.entry == expected["entry"]
    assert result.action == expected["action"]
    # The two registries are the same entry for entry, and read the same.
    assert ledger_of(a) == ledger_of(b)
    assert site.cli_json("status", registry=a, host=ha) == site.cli_json("status", registry=b, host=hb)
    # The registry object that wrote reads its own write.
    with site.as_host(ha):
        r = Registry.open(a)
        assert [s.to_dict() for s in r.status()] == site.cli_json("status", registry=a, host=ha)


def test_a_refused_write_carries_the_cli_refusal(site: Site, registry: Any) -> None:
    message, hint = site.cli_error(
        "deprecate", NEWER, "--reason", "x", "--key", "keys/operator.pem", code=1
    )
    before = (site.registry / ".registry" / "ledger").read_bytes()
    with pytest.raises(Refused) as caught:
        registry.deprecate(NEWER, "x", site.key("operator"))
    e = caught.value
    assert (e.message, e.hint, e.exit_code) == (message, hint, 1)
    assert (site.registry / ".registry" / "ledger").read_bytes() == before


def test_a_key_without_the_role_is_refused_as_the_cli(site: Site, registry: Any) -> None:
    message, hint = site.cli_error(
        "promote", NEWER, "--reason", "x", "--key", "keys/reporter.pem", code=1
    )
    with pytest.raises(Refused) as caught:
        registry.promote(NEWER, "x", site.key("reporter"))
    assert (caught.value.message, caught.value.hint) == (message, hint)


def test_bad_input_is_refused_as_the_cli(site: Site, registry: Any) -> None:
    # An empty reason: the CLI's parser words it, the rule and the exit code are the same.
    site.cli("promote", NEWER, "--reason", " ", "--key", "keys/operator.pem", codes=(2,))
    with pytest.raises(InvalidInput) as caught:
        registry.promote(NEWER, " ", site.key("operator"))
    assert caught.value.exit_code == 2 and "reason is required" in caught.value.message
    # A key file that is not there: the file system's failure, the same message, naming the
    # path as given.
    message, hint = site.cli_error(
        "promote", NEWER, "--reason", "x", "--key", "keys/missing.pem", code=2
    )
    with pytest.raises(IOFailure) as io_failure:
        registry.promote(NEWER, "x", "keys/missing.pem")
    e = io_failure.value
    assert (e.message, e.hint, e.exit_code) == (message, hint, 2)
    # An observation that is not JSON, and one the schema refuses.
    with pytest.raises(InvalidInput) as caught:
        registry.record_drift(ACTIVE, "{not json", site.key("reporter"))
    assert caught.value.exit_code == 2
    for not_json in ({"metric": object()}, {"psi": float("nan")}):
        with pytest.raises(InvalidInput) as caught:
            registry.record_drift(ACTIVE, not_json, site.key("reporter"))
        assert caught.value.message.startswith("the observation is not JSON")
    message, hint = site.cli_error(
        "drift", "record", ACTIVE, "-", "--key", "keys/reporter.pem", code=1, stdin='{"x":1}'
    )
    with pytest.raises(Refused) as refused:
        registry.record_drift(ACTIVE, {"x": 1}, site.key("reporter"))
    assert (refused.value.message, refused.value.hint) == (message, hint)
    assert refused.value.exit_code == 1


def test_passphrases_from_the_argument_or_the_cli_variable(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REG_KEY_PASSPHRASE", "correct horse")
    site.cli("key", "gen", "--passphrase", "keys/vault.pem")
    site.cli(
        "key", "trust", "keys/vault.pem.pub", "--role", "operator", "--name", "vault",
        "--key", "keys/root.pem", "--reason", "an encrypted operator key",
    )
    monkeypatch.delenv("REG_KEY_PASSPHRASE")
    (a, ha), (b, hb) = twins(site, [])
    with site.as_host(ha):
        r = Registry.open(a)
        # No passphrase anywhere: refused, never asked for.
        message, hint = site.cli_error(
            "promote", NEWER, "--reason", "ok", "--key", "keys/vault.pem", code=2,
            registry=b, host=hb,
        )
        with pytest.raises(InvalidInput) as caught:
            r.promote(NEWER, "ok", "keys/vault.pem")
        assert (caught.value.message, caught.value.hint) == (message, hint)
        # A wrong one: the CLI's refusal.
        monkeypatch.setenv("REG_KEY_PASSPHRASE", "wrong")
        message, hint = site.cli_error(
            "promote", NEWER, "--reason", "ok", "--key", "keys/vault.pem", code=2,
            registry=b, host=hb,
        )
        with pytest.raises(InvalidInput) as caught:
            r.promote(NEWER, "ok", "keys/vault.pem")
        assert (caught.value.message, caught.value.hint) == (message, hint)
        # The argument wins over the variable.
        result = r.promote(NEWER, "ok", "keys/vault.pem", passphrase="correct horse")
        monkeypatch.setenv("REG_KEY_PASSPHRASE", "correct horse")
        expected = site.cli_json(
            "promote", NEWER, "--reason", "ok", "--key", "keys/vault.pem", registry=b, host=hb
        )
        assert result.to_dict() == expected
        # The variable, as the CLI reads it.
        result = r.activate("canary", NEWER, "canary", "keys/vault.pem")
        expected = site.cli_json(
            "activate", "canary", NEWER, "--reason", "canary", "--key", "keys/vault.pem",
            registry=b, host=hb,
        )
        assert result.to_dict() == expected
