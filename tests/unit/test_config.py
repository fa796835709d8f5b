"""Settings come only from the environment the template sets, and a missing one fails loudly."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from eservices_core.config import Settings, function_environment, require, require_int, setting
from eservices_core.errors import ConfigurationError

NAME = "ESERVICES_UNIT_TEST_SETTING"


def test_require_returns_the_value_of_a_set_variable():
    assert require(NAME, {NAME: "eservices-directory"}) == "eservices-directory"


def test_require_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv(NAME, "from-os")

    assert require(NAME) == "from-os"


@pytest.mark.parametrize(
    "environ", [{}, {NAME: ""}, {NAME: "   "}, {NAME: "\t\n"}], ids=["missing", "empty", "spaces", "ws"]
)
def test_require_fails_loudly_naming_a_missing_or_blank_variable(environ):
    with pytest.raises(ConfigurationError, match=NAME):
        require(NAME, environ)


def test_require_fails_when_the_variable_is_not_in_os_environ(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)

    with pytest.raises(ConfigurationError, match=NAME):
        require(NAME)


def test_require_int_parses_an_integer():
    assert require_int(NAME, {NAME: "42"}) == 42
    assert require_int(NAME, {NAME: "-3"}) == -3


@pytest.mark.parametrize("raw", ["4.2", "forty", "1e3"])
def test_require_int_refuses_a_non_integer_naming_the_variable_and_value(raw):
    with pytest.raises(ConfigurationError, match=NAME) as caught:
        require_int(NAME, {NAME: raw})

    assert repr(raw) in str(caught.value)


def test_require_int_fails_loudly_when_missing():
    with pytest.raises(ConfigurationError, match=NAME):
        require_int(NAME, {})


def test_function_environment_takes_precedence_over_os_environ(monkeypatch):
    monkeypatch.setenv(NAME, "process")

    with function_environment({NAME: "function"}):
        assert require(NAME) == "function"
    assert require(NAME) == "process", "the overlay ends with its block"


def test_function_environment_is_restored_after_an_exception(monkeypatch):
    monkeypatch.setenv(NAME, "process")

    with pytest.raises(KeyError), function_environment({NAME: "function"}):
        raise KeyError("boom")

    assert require(NAME) == "process"


def test_nested_function_environments_restore_the_outer_one():
    with function_environment({NAME: "outer"}):
        with function_environment({NAME: "inner"}):
            assert require(NAME) == "inner"
        assert require(NAME) == "outer"


def test_an_explicit_environ_wins_over_the_overlay():
    with function_environment({NAME: "overlay"}):
        assert require(NAME, {NAME: "explicit"}) == "explicit"


def test_each_thread_reads_its_own_function_environment(monkeypatch):
    monkeypatch.setenv(NAME, "process")
    both_inside = threading.Barrier(2, timeout=5)
    seen: dict[str, str] = {}
    failures: list[BaseException] = []

    def invoke(function: str) -> None:
        try:
            with function_environment({NAME: function}):
                both_inside.wait()  # both overlays are active at the same time
                seen[function] = require(NAME)
                both_inside.wait()
        except BaseException as error:  # surfaced in the main thread below
            failures.append(error)

    threads = [threading.Thread(target=invoke, args=(name,)) for name in ("directory-api", "hsa-feed")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert failures == []
    assert seen == {"directory-api": "directory-api", "hsa-feed": "hsa-feed"}
    assert require(NAME) == "process", "no overlay leaks into the main thread"


@dataclass(frozen=True, slots=True)
class DemoSettings(Settings):
    table_name: str = setting("DEMO_TABLE_NAME")
    retention_days: int = setting("DEMO_RETENTION_DAYS")
    platform_url: str | None = setting("DEMO_PLATFORM_URL")


def test_settings_read_each_field_from_its_variable_as_its_type_says():
    variables = {"DEMO_TABLE_NAME": "t", "DEMO_RETENTION_DAYS": "730", "DEMO_PLATFORM_URL": " "}
    with function_environment(variables):
        assert DemoSettings.from_env() == DemoSettings("t", 730, None)


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"DEMO_RETENTION_DAYS": "730"}, "DEMO_TABLE_NAME"),
        ({"DEMO_TABLE_NAME": "t", "DEMO_RETENTION_DAYS": "two years"}, "DEMO_RETENTION_DAYS"),
    ],
)
def test_settings_fail_loudly_naming_the_variable_missing_or_wrong(variables, named):
    with function_environment(variables), pytest.raises(ConfigurationError, match=named):
        DemoSettings.from_env()


def test_a_setting_of_another_type_is_a_configuration_error_not_a_silent_string():
    @dataclass(frozen=True)
    class Odd(Settings):
        ratio: float = setting("DEMO_RATIO")

    with function_environment({"DEMO_RATIO": "0.5"}), pytest.raises(ConfigurationError, match=r"Odd\.ratio"):
        Odd.from_env()
