def test_health(api):
    r = api.get("/health")
    assert r.status == 200 and r.body == {"status": "ok"}


def test_register_login_me(api):
    _, token = api.register("alice")
    me = api.get("/me", token=token)
    assert me.status == 200, me.body
    assert me.body["email"] == "alice@example.com"
