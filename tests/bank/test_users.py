"""Console passwords: at least 10 characters and not easy to guess (zxcvbn's lists and patterns),
one rule for every place a password is set; a reset or a disabled user ends every session."""

from __future__ import annotations

import datetime as dt

import pytest

from bank import users
from bank.errors import InvalidInput
from tests.conftest import T0

pytestmark = pytest.mark.engines("sqlite", "postgresql")


@pytest.mark.parametrize("password", ["12345678", "1234567890", "password123", "qwertyuiop", "1qaz2wsx3edc",
                                      "aaaaaaaaaaaa", "abcdefghijk", "iloveyou12", "P@ssw0rd2024", "woaini1314",
                                      "王主任王主任王主任12", "LH龙海社区LH龙海社区"])
def test_short_common_or_guessable_passwords_are_refused(store, password):
    with pytest.raises(InvalidInput) as refused:
        users.add_user(store, name="王主任", role="office", password=password)
    assert "密码" in refused.value.zh
    assert store.execute("SELECT count(*) FROM console_users").fetchone()[0] == 0


def test_the_message_says_why(store):
    with pytest.raises(InvalidInput) as short:
        users.add_user(store, name="王主任", role="office", password="12345678")
    assert "10到128个字符" in short.value.zh
    with pytest.raises(InvalidInput) as common:
        users.add_user(store, name="王主任", role="office", password="1234567890")
    assert "常见密码" in common.value.zh


@pytest.mark.parametrize("password", ["longhai-demo", "test-password-1", "江边-茶馆-1987", "correct horse battery"])
def test_good_passwords_pass(store, password):
    uid = users.add_user(store, name="王主任", role="office", password=password)
    assert users.authenticate(store, "王主任", password).user_id == uid


def test_a_reset_ends_every_session_and_refuses_a_weak_password(store):
    uid = users.add_user(store, name="王主任", role="office", password="test-password-1")
    user = users.get(store, uid)
    tokens = [users.start_session(store, user, now=T0) for _ in range(3)]
    later = T0 + dt.timedelta(minutes=5)
    with pytest.raises(InvalidInput):
        users.set_password(store, uid, "12345678")
    assert all(users.session(store, t, now=later) for t in tokens)       # a refused reset changes nothing
    users.set_password(store, uid, "new-password-7", now=later)
    assert [users.session(store, t, now=later) for t in tokens] == [None, None, None]
    assert users.authenticate(store, "王主任", "test-password-1") is None
    fresh = users.start_session(store, user, now=later)
    assert users.session(store, fresh, now=later).user.user_id == uid


def test_a_disabled_user_stays_logged_out_when_enabled_again(store):
    uid = users.add_user(store, name="王主任", role="office", password="test-password-1")
    token = users.start_session(store, users.get(store, uid), now=T0)
    users.set_active(store, uid, False)
    assert users.session(store, token, now=T0) is None
    users.set_active(store, uid, True)
    assert users.session(store, token, now=T0) is None
