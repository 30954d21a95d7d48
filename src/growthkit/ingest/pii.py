"""Pseudonymisation of personal data at ingestion.

Names, e-mail addresses, phone numbers and postal addresses are replaced by
HMAC-SHA256 of a normalised form, keyed with the workspace key (which lives in
the workspace config, never in the store). The same person gets the same
pseudonym in every load of the same workspace, so joins still work, while
the store holds nothing that reveals who the person is.

The HMAC is computed inside DuckDB (RFC 2104 built from ``sha256``), so raw
values are never written anywhere by growthkit.
"""

from __future__ import annotations

import hashlib
import hmac

from growthkit.schema import PII_FIELDS

PII_ALIASES: dict[str, str] = {
    "name": "name",
    "full_name": "name",
    "customer_name": "name",
    "username": "name",
    "姓名": "name",
    "email": "email",
    "e_mail": "email",
    "email_address": "email",
    "mail": "email",
    "邮箱": "email",
    "phone": "phone",
    "mobile": "phone",
    "phone_number": "phone",
    "telephone": "phone",
    "tel": "phone",
    "手机": "phone",
    "手机号": "phone",
    "电话": "phone",
    "address": "address",
    "street_address": "address",
    "shipping_address": "address",
    "地址": "address",
    "收货地址": "address",
}
"""Input column names recognised as personal data, and the field they hold."""


def _normalised(field: str, raw: str) -> str:
    v = f"nullif(trim({raw}), '')"
    if field == "email":
        return f"lower({v})"
    if field == "phone":
        return f"nullif(regexp_replace({v}, '[^0-9]', '', 'g'), '')"
    return f"lower(regexp_replace({v}, '\\s+', ' ', 'g'))"


def hmac_sql(key: bytes, value_sql: str, field: str) -> str:
    """SQL computing ``hmac_sha256(key, field + ':' + normalised(value))`` as hex, NULL for empty values."""
    block = 64
    k = hashlib.sha256(key).digest() if len(key) > block else key
    k = k.ljust(block, b"\0")
    inner = bytes(b ^ 0x36 for b in k).hex()
    outer = bytes(b ^ 0x5C for b in k).hex()
    msg = f"encode('{field}:' || {_normalised(field, value_sql)})"
    return f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || {msg})))"


def hmac_python(key: bytes, value: str, field: str) -> str:
    """The same pseudonym as :func:`hmac_sql`, computed in Python (for lookups and tests)."""
    v = value.strip()
    if field == "email":
        v = v.lower()
    elif field == "phone":
        v = "".join(ch for ch in v if ch.isdigit())
    else:
        v = " ".join(v.split()).lower()
    return hmac.new(key, f"{field}:{v}".encode(), hashlib.sha256).hexdigest()


def pii_columns(columns: list[str]) -> dict[str, str]:
    """Input columns holding personal data -> the contract field (name, email, phone, address)."""
    out = {c: PII_ALIASES[c] for c in columns if c in PII_ALIASES}
    assert set(out.values()) <= set(PII_FIELDS)
    return out
