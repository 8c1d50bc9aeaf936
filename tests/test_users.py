"""``config.set_user_directory``: one way for a host to say who a user is."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from banter_payments.users import UserInfo, find_user, has_user_directory


def build(settings, *lookups):
    with Configurator(settings=settings) as config:
        config.include("banter_payments")
        for lookup in lookups:
            config.set_user_directory(lookup)
    return config.make_wsgi_app().registry


class Source:
    def __init__(self, registry):
        self.registry = registry


def test_without_a_directory_every_user_exists_and_nothing_more_is_known(settings):
    registry = build(settings)
    assert not has_user_directory(registry)
    assert find_user(Source(registry), "alice") == UserInfo("alice")


@pytest.mark.parametrize(("answer", "expected"), [
    (UserInfo("alice", name="Alice", email="a@x.test", locale="en_IN"),
     UserInfo("alice", name="Alice", email="a@x.test", locale="en_IN")),
    ({"name": " Alice ", "email": "a@x.test", "locale": "hi_IN", "other": 1},
     UserInfo("alice", name="Alice", email="a@x.test", locale="hi_IN")),
    ({"name": 42, "email": ""}, UserInfo("alice")),
    (True, UserInfo("alice")),
    (None, None),
    (False, None),
])
def test_the_directory_answers_are_normalized(settings, answer, expected):
    seen = []

    def lookup(request, user_id):
        seen.append(user_id)
        return answer

    registry = build(settings, lookup)
    assert find_user(Source(registry), "alice") == expected
    assert seen == ["alice"]


def test_an_answer_of_another_type_is_an_error(settings):
    registry = build(settings, lambda request, user_id: "alice@x.test")
    with pytest.raises(TypeError, match="expected UserInfo"):
        find_user(Source(registry), "alice")


def test_a_second_directory_conflicts(settings):
    with pytest.raises(ConfigurationConflictError):
        build(settings, lambda r, u: True, lambda r, u: None)


@pytest.mark.parametrize(("value", "message"), [
    (42, "config.set_user_directory: user directory must be a callable"),
    ("tests.nowhere.lookup", "config.set_user_directory: user directory "
                             "'tests.nowhere.lookup' cannot be imported"),
])
def test_what_is_not_a_callable_stops_start_up(settings, value, message):
    with pytest.raises(ConfigurationError, match=message):
        build(settings, value)
