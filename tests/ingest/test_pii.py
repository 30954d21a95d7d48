"""Personal data never reaches the store: only keyed pseudonyms do."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from growthkit.config import Settings
from growthkit.errors import ConfigError
from growthkit.ingest import ingest
from growthkit.ingest.pii import hmac_python
from growthkit.store import open_store

SECRETS = [
    "Zhang Wei",
    "zhang.wei@example.com",
    "13800138000",
    "上海市浦东新区世纪大道100号",
    "Li Na",
    "li.na@example.org",
]

USERS_CSV = (
    "user_id,name,email,mobile,收货地址,city\n"
    "u1,Zhang Wei,Zhang.Wei@Example.com ,+86 138-0013-8000,上海市浦东新区世纪大道100号,上海\n"
    "u2,Li Na,li.na@example.org,,,\n"
    ",Wang Fang,wang.fang@example.net,13900000000,,北京\n"  # quarantined: user_id empty
    "u4,Zhao Lei,zhao.lei@example.net\n"  # malformed: too few fields
)


def test_pii_is_pseudonymised_and_never_stored(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    s = Settings(db=str(db), workspace=tmp_path / "ws")
    src = tmp_path / "users.csv"
    src.write_text(USERS_CSV, encoding="utf-8")
    with open_store(s) as st:
        r = ingest(st, s, [src], kind="users")
        assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (4, 2, 2)
        key = s.resolve_pii_key()
        u1 = st.query("select * from users where user_id = 'u1'").to_pylist()[0]
        assert u1["email_hash"] == hmac_python(key, "zhang.wei@example.com", "email")
        assert u1["phone_hash"] == hmac_python(key, "8613800138000", "phone")
        assert u1["name_hash"] == hmac_python(key, "zhang wei", "name")
        assert u1["address_hash"] and u1["city"] == "上海"
        raws = [q["raw"] for q in st.query("select raw from quarantine order by line").to_pylist()]
        assert raws[1] is None  # an unparseable users line is not kept at all
        kept = json.loads(raws[0])
        assert "email" not in kept and kept["email_hash"] == hmac_python(key, "wang.fang@example.net", "email")
    blob = db.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("s.duckdb*") if p != db)
    for secret in [*SECRETS, "wang.fang@example.net", "13900000000", "zhao.lei@example.net"]:
        assert secret.encode() not in blob, secret
        assert secret.lower().encode() not in blob, secret
    assert key.decode() not in blob.decode("latin-1")
    keyfile = tmp_path / "ws" / "pii.key"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600


def test_pseudonyms_are_stable_per_workspace_and_differ_across_keys(tmp_path: Path) -> None:
    src = tmp_path / "u.csv"
    src.write_text("user_id,email\nu1,a@example.com\n")
    hashes = []
    for ws in ("ws1", "ws1", "ws2"):
        s = Settings(db=":memory:", workspace=tmp_path / ws)
        with open_store(s) as st:
            ingest(st, s, [src], kind="users")
            hashes.append(st.scalar("select email_hash from users"))
    assert hashes[0] == hashes[1] != hashes[2]


def test_pii_in_event_files_is_hashed_too(tmp_path: Path) -> None:
    src = tmp_path / "e.csv"
    src.write_text("user_id,ts,event_type,email\nu1,2024-03-01,view,a@example.com\n")
    s = Settings(db=":memory:", workspace=tmp_path / "ws")
    with open_store(s) as st:
        ingest(st, s, [src], kind="events")
        props = json.loads(st.scalar("select properties from events"))
    assert set(props) == {"email_hash"} and "@" not in props["email_hash"]


def test_key_from_environment_must_be_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROWTHKIT_PII_KEY", "short")
    with pytest.raises(ConfigError, match="16 characters"):
        Settings(db=":memory:").resolve_pii_key()
    monkeypatch.setenv("GROWTHKIT_PII_KEY", "x" * 40)
    assert Settings(db=":memory:").resolve_pii_key() == b"x" * 40
