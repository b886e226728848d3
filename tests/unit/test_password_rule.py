"""The password rule (services/accounts/passwords.py), one function: what it lets
through has every property it promises, and each promise is what refuses."""
from __future__ import annotations

import string

from hypothesis import given, settings, strategies as st

from services.accounts.passwords import (MAX_LENGTH, MIN_LENGTH, check_password, hash_password,
                                         password_problem)

USERNAMES = st.sampled_from(["off.a", "sup.city", "insp.b", "赵书涵"])
ONE_CLASS = st.sampled_from([string.ascii_lowercase, string.ascii_uppercase, string.digits, "!@#$%^&*()-_"])


def _kinds(p: str) -> int:
    return len({("l" if c.islower() else "u" if c.isupper() else "d" if c.isdigit() else "o") for c in p})


@given(st.text(max_size=300), USERNAMES)
def test_what_the_rule_lets_through_keeps_every_promise(password, username):
    if password_problem(password, username=username) is None:
        assert MIN_LENGTH <= len(password) <= MAX_LENGTH
        assert _kinds(password) >= 2
        assert username.casefold() not in password.casefold()
        assert len(set(password)) >= 4 and password == password.strip()


@given(ONE_CLASS.flatmap(lambda alphabet: st.text(alphabet, min_size=MIN_LENGTH, max_size=40)), USERNAMES)
def test_one_kind_of_character_is_refused(password, username):
    assert password_problem(password, username=username) is not None


@given(st.text(min_size=0, max_size=MIN_LENGTH - 1), USERNAMES)
def test_short_is_refused(password, username):
    assert "至少 12" in password_problem(password, username=username)


@given(USERNAMES, st.text(string.ascii_letters + string.digits, min_size=0, max_size=8))
def test_the_username_inside_is_refused(username, around):
    password = f"Aa9-Garden-{around}{username.upper()}{around}-x7Q"
    assert password_problem(password, username=username) == "密码不能包含用户名"


def test_good_passwords_pass():
    for p in ("Lotus-Pond-2023", "correct horse battery staple 9", "忻州整治2023年第三季度"):
        assert password_problem(p, username="off.a") is None, p


@settings(max_examples=3, deadline=None)  # Argon2 costs ~0.1 s per hash, on purpose
@given(st.text(min_size=MIN_LENGTH, max_size=40))
def test_a_hash_checks_its_password_and_nothing_else(password):
    stored = hash_password(password)
    assert stored.startswith("$argon2id$") and password not in stored
    assert check_password(stored, password) == (True, None)
    assert check_password(stored, password + "x")[0] is False
    assert check_password(None, password)[0] is False
    assert check_password("not a hash", password)[0] is False
