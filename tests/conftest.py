"""Fixtures: every test that touches AWS gets a fresh moto account built from template.yaml; `world` fills one
with people, staff and clinics (tests.support.people) on a fixed day."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from hypothesis import settings

# Timing belongs in benchmarks: no per-example deadline, so a loaded CI machine cannot fail a property test.
settings.register_profile("project", deadline=None, print_blob=True)
# CI (.ci/run) draws the same examples on every run, so a red build is the change's doing, never the draw's;
# local runs keep drawing new examples and find what CI then keeps checking.
settings.register_profile("ci", parent=settings.get_profile("project"), derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "project"))

if TYPE_CHECKING:
    from eservices_core.clock import FixedClock
    from tests.support.aws import Stack
    from tests.support.people import World

# Fake credentials for moto, set before any client exists; nothing may reach real AWS.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-north-1",
        "AWS_REGION": "eu-north-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session", autouse=True)
def _moto_behaves_like_dynamodb() -> None:
    from local_runtime import moto_patches

    moto_patches.install()


@pytest.fixture(scope="session")
def template():
    from local_runtime.template import Template

    return Template()


def _stack(template, *, workflows: bool = False):
    from moto import mock_aws

    from eservices_core import wiring
    from local_runtime import moto_patches
    from local_runtime.provision import provision
    from tests.support.aws import Stack

    config = {"stepfunctions": {"execute_state_machine": True}} if workflows else None
    with mock_aws(config=config):  # type: ignore[arg-type]
        wiring.reset()
        stack = Stack(provision(template, boto3.session.Session()))
        if workflows:
            moto_patches.dispatch_lambda(
                lambda name, event: stack.invoke(stack.deployment.function_names[name], event)
            )
        yield stack
    wiring.reset()


@pytest.fixture
def stack(template) -> Iterator[Stack]:
    """A fresh moto account with the template's resources."""
    yield from _stack(template)


@pytest.fixture
def workflow_stack(template) -> Iterator[Stack]:
    """A fresh account whose state machines execute, their Lambda tasks running the real handlers in-process
    (waits and retry intervals take real time: start executions with short timeouts in tests)."""
    yield from _stack(template, workflows=True)


@pytest.fixture(scope="module")
def module_stack(template) -> Iterator[Stack]:
    """One account for a module whose tests only read (fill it once, in a module fixture)."""
    yield from _stack(template)


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    """The platform's clock stopped at tests.support.people.NOW (move it with `clock.advance`)."""
    from eservices_core.clock import FixedClock, use_clock
    from tests.support.people import NOW

    with use_clock(FixedClock(NOW)) as fixed:
        yield fixed


@pytest.fixture
def world(stack, clock) -> World:
    """Residents, staff and clinics made through the feeds and the API of `stack` (as a module may override it),
    on tests.support.people.TODAY with the clock at NOW."""
    from tests.support.people import TODAY, World

    return World(stack, TODAY)
