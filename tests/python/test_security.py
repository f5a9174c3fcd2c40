"""Access control through the official Python client's admin_* methods against a node
with a `security { }` stanza: anonymous access refused, logins, predefined and scoped
roles, role queries, password changes, dropped users, allow-lists and quotas."""

import time

import pytest

import aerospike
from aerospike import exception as ex

from conftest import AerieServer, locate_aerie_bin

CONFIG = """
security {
    enable-quotas true
}
namespace test {
    storage-engine memory {
        data-size 64M
    }
}
"""

NOT_AUTHENTICATED = 80
ROLE_VIOLATION = 81
INVALID_USER = 60
INVALID_PASSWORD = 62
NOT_WHITELISTED = 82
QUOTA_EXCEEDED = 83


@pytest.fixture(scope="module")
def server():
    s = AerieServer(locate_aerie_bin(), config_text=CONFIG)
    try:
        yield s
    except BaseException:
        s.stop(keep_logs=True)
        raise
    else:
        s.stop()


def connect(server, user=None, password=None):
    config = {"hosts": [(server.host, server.port)], "policies": {"total_timeout": 5000}}
    if user is not None:
        config["user"] = user
        config["password"] = password
    return aerospike.client(config).connect()


def code_of(fn, *args, **kwargs):
    with pytest.raises(ex.AerospikeError) as err:
        fn(*args, **kwargs)
    return err.value.code


@pytest.fixture(scope="module")
def admin(server):
    c = connect(server, "admin", "admin")
    yield c
    c.close()


def test_anonymous_and_bad_credentials_are_refused(server):
    with pytest.raises(ex.AerospikeError):
        anon = connect(server)
        anon.put(("test", "demo", 1), {"a": 1})
    with pytest.raises(ex.AerospikeError):
        connect(server, "admin", "not-the-password")
    with pytest.raises(ex.AerospikeError):
        connect(server, "nobody", "admin")


def test_roles_scopes_and_queries(server, admin):
    admin.admin_create_role(
        "py-demo", [{"code": aerospike.PRIV_READ_WRITE, "ns": "test", "set": "demo"}]
    )
    admin.admin_create_user("py-writer", "pw1", ["py-demo"])
    admin.admin_create_user("py-reader", "pw2", ["read"])
    assert code_of(admin.admin_create_user, "py-reader", "x", ["read"]) == 61
    assert code_of(admin.put, ("test", "demo", 1), {"a": 1}) == ROLE_VIOLATION

    info = admin.admin_query_user_info("py-writer")
    assert info["roles"] == ["py-demo"]
    users = admin.admin_query_users_info()
    assert {"admin", "py-writer", "py-reader"} <= set(users)
    role = admin.admin_get_role("py-demo")
    assert role["privileges"] == [{"code": aerospike.PRIV_READ_WRITE, "ns": "test", "set": "demo"}]
    roles = admin.admin_get_roles()
    assert "read-write-udf" in roles and "py-demo" in roles

    writer = connect(server, "py-writer", "pw1")
    writer.put(("test", "demo", 1), {"a": 1})
    assert code_of(writer.put, ("test", "other", 1), {"a": 1}) == ROLE_VIOLATION
    assert code_of(writer.admin_create_user, "x", "y", ["read"]) == ROLE_VIOLATION

    reader = connect(server, "py-reader", "pw2")
    _, _, bins = reader.get(("test", "demo", 1))
    assert bins == {"a": 1}
    assert code_of(reader.put, ("test", "demo", 1), {"a": 2}) == ROLE_VIOLATION

    admin.admin_grant_privileges("py-demo", [{"code": aerospike.PRIV_READ, "ns": "test", "set": "other"}])
    with pytest.raises(ex.RecordNotFound):
        writer.get(("test", "other", 1))
    admin.admin_revoke_privileges("py-demo", [{"code": aerospike.PRIV_READ, "ns": "test", "set": "other"}])
    assert code_of(writer.get, ("test", "other", 1)) == ROLE_VIOLATION
    writer.close()
    reader.close()


def test_password_change_and_drop(server, admin):
    admin.admin_create_user("py-pw", "old-pw", ["read"])
    user = connect(server, "py-pw", "old-pw")
    user.admin_change_password("py-pw", "new-pw")
    with pytest.raises(ex.AerospikeError):
        connect(server, "py-pw", "old-pw")
    again = connect(server, "py-pw", "new-pw")
    admin.admin_set_password("py-pw", "reset-pw")
    connect(server, "py-pw", "reset-pw").close()

    admin.admin_drop_user("py-pw")
    with pytest.raises(ex.AerospikeError):
        again.get(("test", "demo", 1))
    with pytest.raises(ex.AerospikeError):
        connect(server, "py-pw", "reset-pw")
    assert code_of(admin.admin_drop_user, "py-pw") == INVALID_USER
    user.close()
    again.close()


def test_allowlist_and_quotas(server, admin):
    admin.admin_create_role(
        "py-far", [{"code": aerospike.PRIV_READ}], whitelist=["10.20.0.0/16"]
    )
    admin.admin_create_user("py-far-user", "pw", ["py-far"])
    with pytest.raises(ex.AerospikeError):
        connect(server, "py-far-user", "pw")
    admin.admin_set_whitelist("py-far", ["127.0.0.1"])
    connect(server, "py-far-user", "pw").close()
    assert admin.admin_get_role("py-far")["whitelist"] == ["127.0.0.1"]

    admin.admin_create_role("py-slow", [{"code": aerospike.PRIV_READ}], read_quota=2)
    admin.admin_create_user("py-slow-user", "pw", ["py-slow"])
    slow = connect(server, "py-slow-user", "pw")
    codes = []
    for i in range(30):
        try:
            slow.get(("test", "demo", i))
        except ex.AerospikeError as e:
            codes.append(e.code)
    assert QUOTA_EXCEEDED in codes
    admin.admin_set_quotas("py-slow", read_quota=0, write_quota=0)
    time.sleep(0.1)
    assert admin.admin_get_role("py-slow")["read_quota"] == 0
    slow.close()
