"""Who may gift whom: the host's decision, supplied through directives.

The product default is friends only (``gifting.policy = friends``): the host app supplies
the friendship check, and the app refuses to start without one rather than refuse every
gift at run time. ``gifting.policy = allow_all`` lets anyone gift anyone (development).

Directives (each may be called once; a second call is a start-up conflict):

- ``config.set_gift_policy(policy)``: ``policy(request, sender_id, recipient_id)``
  returns True to allow, or False or a reason (a string shown to the sender) to refuse.
  It replaces the built-in policy chosen by ``gifting.policy``.
- ``config.set_friendship_check(check)``: ``check(request, a, b) -> bool``, used by the
  ``friends`` policy.
- ``config.set_block_check(check)``: ``check(request, sender_id, recipient_id) -> bool``,
  True when either has blocked the other; applied before any policy.
- ``config.set_user_directory(lookup)`` (the core's, ``banter_payments.users``): a gift
  to a user it does not know is a 404. Without one, every well-formed user id exists.

Each accepts a callable or its dotted name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyramid.exceptions import ConfigurationError

from banter_payments.arguments import a_callable, check_arguments
from banter_payments.catalog.registry import assets
from banter_payments.users import find_user

POLICY_KEY = "banter_gifting.policy"
FRIENDSHIP_KEY = "banter_gifting.friendship_check"
BLOCK_KEY = "banter_gifting.block_check"
RULES_KEY = "banter_gifting.rules"

MODES = ("friends", "allow_all")
NOT_FRIENDS = "You can only send gifts to your friends."
BLOCKED = "You cannot send gifts to this user."
REFUSED = "You are not allowed to send a gift to this user."


@dataclass(frozen=True)
class GiftRules:
    """The resolved checks a gift goes through, in this order."""

    user_exists: Callable[[Any, str], bool]
    blocked: Callable[[Any, str, str], bool] | None
    policy: Callable[[Any, str, str], Any]

    def refusal(self, request, sender_id: str, recipient_id: str) -> str | None:
        """None when the gift is allowed, else the reason shown to the sender."""
        if self.blocked is not None and self.blocked(request, sender_id, recipient_id):
            return BLOCKED
        verdict = self.policy(request, sender_id, recipient_id)
        if isinstance(verdict, str):
            return verdict or REFUSED
        return None if verdict else REFUSED


def _setter(name: str, key: str, what: str):

    def directive(config, callable_) -> None:
        try:
            callable_ = config.maybe_dotted(callable_)
        except (ImportError, ValueError) as exc:
            raise ConfigurationError(f"config.{name}: {what} {callable_!r} cannot be "
                                     f"imported ({exc})") from None
        check_arguments(f"config.{name}", {what: (callable_, a_callable)})

        def register():
            config.registry[key] = callable_

        config.action((key,), register)

    directive.__name__ = name
    directive.__doc__ = f"Set the {what} (see banter_gifting.policy)."
    return directive


set_gift_policy = _setter("set_gift_policy", POLICY_KEY, "gift policy")
set_friendship_check = _setter("set_friendship_check", FRIENDSHIP_KEY, "friendship check")
set_block_check = _setter("set_block_check", BLOCK_KEY, "block check")


def _allow_all(request, sender_id: str, recipient_id: str) -> bool:
    return True


def _user_exists(request, user_id: str) -> bool:
    return find_user(request, user_id) is not None


def resolve_rules(config, mode: str) -> None:
    """At commit, after every directive has run: check what gifting needs, and fix the
    rules it will apply."""
    registry = config.registry

    def resolve():
        if "coins" not in assets(registry):
            raise ConfigurationError(
                "banter_gifting needs the 'coins' asset: add banter_coins to "
                "banter_payments.plugins (before or after banter_gifting), or register "
                "it with config.add_asset('coins')"
            )
        policy = registry.get(POLICY_KEY)
        if policy is None and mode == "allow_all":
            policy = _allow_all
        elif policy is None:
            friendship = registry.get(FRIENDSHIP_KEY)
            if friendship is None:
                raise ConfigurationError(
                    "gifting.policy = friends (the default) needs the host app's "
                    "friendship check: call config.set_friendship_check(check) or "
                    "config.set_gift_policy(policy) in the host app, or set "
                    "gifting.policy = allow_all (for development)"
                )

            def policy(request, sender_id, recipient_id):
                return bool(friendship(request, sender_id, recipient_id)) or NOT_FRIENDS

        registry[RULES_KEY] = GiftRules(
            user_exists=_user_exists,
            blocked=registry.get(BLOCK_KEY),
            policy=policy,
        )

    # After the asset (order -10) and every directive (order 0) of the same commit.
    config.action(("banter_gifting.resolve_rules",), resolve, order=10)


def gift_rules(registry) -> GiftRules:
    return registry[RULES_KEY]
