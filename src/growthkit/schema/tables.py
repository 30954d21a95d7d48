"""The canonical tables of growthkit, declared as data.

Every reader, adapter, the simulator and the store work from these
declarations; ``docs/data-contract.md`` documents them for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColumnType(StrEnum):
    """Logical column types of the data contract."""

    STRING = "string"
    TIMESTAMP = "timestamp"  # UTC, microseconds, stored without zone
    FLOAT = "float"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    JSON = "json"

    @property
    def sql(self) -> str:
        """The DuckDB type that stores this logical type."""
        return _SQL_TYPES[self]


_SQL_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.FLOAT: "DOUBLE",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.JSON: "JSON",
}


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    type: ColumnType
    description: str
    required: bool = False
    non_negative: bool = False


class TableRole(StrEnum):
    """How a table treats a second row with the same key.

    ``FACT`` rows are immutable (an event happened): a second row with the
    same key and the same content is a duplicate, with other content a
    conflict that is quarantined. ``DIMENSION`` rows describe an entity that
    changes (a price, a city): a second row with other content updates it.
    """

    FACT = "fact"
    DIMENSION = "dimension"


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns, key and role."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: str
    role: TableRole
    key_from_content: bool = False
    """When the source has no key column, derive it from a hash of the row."""
    extras_column: str | None = None
    """JSON column that receives any input column the contract does not name."""
    pii: tuple[str, ...] = field(default_factory=tuple)
    """Input columns holding personal data: pseudonymised, never stored raw."""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


EVENT_TYPES: tuple[str, ...] = (
    "signup",
    "view",
    "search",
    "cart",
    "purchase",
    "refund",
    "review",
    "share",
    "invite",
    "coupon_received",
    "coupon_redeemed",
)
"""The canonical event vocabulary. Other event types are kept as they come."""

EVENT_TYPE_ALIASES: dict[str, str] = {
    "register": "signup",
    "sign_up": "signup",
    "registration": "signup",
    "pageview": "view",
    "page_view": "view",
    "view_item": "view",
    "product_view": "view",
    "click": "view",
    "add_to_cart": "cart",
    "addtocart": "cart",
    "add_cart": "cart",
    "transaction": "purchase",
    "order": "purchase",
    "buy": "purchase",
    "return": "refund",
    "rate": "review",
    "rating": "review",
}
"""Common spellings from other tools, mapped to the canonical vocabulary."""

EDGE_KINDS: tuple[str, ...] = ("friend", "follow", "referral")

CURRENCY_ALIASES: dict[str, str] = {"RMB": "CNY", "¥": "CNY", "元": "CNY", "$": "USD", "€": "EUR", "£": "GBP"}

PII_FIELDS: tuple[str, ...] = ("name", "email", "phone", "address")
"""Personal data accepted in ``users`` input, stored only as keyed hashes."""

_S, _T, _F, _I, _B, _J = (
    ColumnType.STRING,
    ColumnType.TIMESTAMP,
    ColumnType.FLOAT,
    ColumnType.INTEGER,
    ColumnType.BOOLEAN,
    ColumnType.JSON,
)

EVENTS = Table(
    name="events",
    description="Everything a user did, one row per event.",
    key="event_id",
    role=TableRole.FACT,
    key_from_content=True,
    extras_column="properties",
    columns=(
        Column("event_id", _S, "Unique id of the event; a hash of the row when the source has none."),
        Column("user_id", _S, "The shop's own user id.", required=True),
        Column("ts", _T, "When it happened, UTC.", required=True),
        Column("event_type", _S, "Canonical vocabulary (see EVENT_TYPES); other types are kept.", required=True),
        Column("item_id", _S, "Item the event is about, if any."),
        Column("session_id", _S, "Session the event belongs to, if known."),
        Column("quantity", _F, "Units, for cart, purchase and refund.", non_negative=True),
        Column("amount", _F, "Money value of the event (line total), in `currency`."),
        Column("currency", _S, "ISO 4217 code such as CNY, USD."),
        Column("query", _S, "Search text, for search events."),
        Column("channel", _S, "Acquisition or marketing channel of the event."),
        Column("properties", _J, "Anything else, as a JSON object."),
    ),
)

USERS = Table(
    name="users",
    description="One row per customer. Personal data is pseudonymised at ingestion.",
    key="user_id",
    role=TableRole.DIMENSION,
    extras_column="attributes",
    pii=PII_FIELDS,
    columns=(
        Column("user_id", _S, "The shop's own user id.", required=True),
        Column("signup_ts", _T, "Signup time, UTC."),
        Column("channel", _S, "Acquisition channel (organic, ads, social, referral, ...)."),
        Column("country", _S, "Country (ISO code or name)."),
        Column("city", _S, "City."),
        Column("city_tier", _S, "City tier (1, 2, 3, ... as used in China), if known."),
        Column("marketing_consent", _B, "Whether the user agreed to marketing messages."),
        Column("name_hash", _S, "Keyed hash of the name (HMAC-SHA256); never the name."),
        Column("email_hash", _S, "Keyed hash of the lower-cased e-mail address."),
        Column("phone_hash", _S, "Keyed hash of the phone number's digits."),
        Column("address_hash", _S, "Keyed hash of the normalised postal address."),
        Column("attributes", _J, "Anything else, as a JSON object."),
    ),
)

ITEMS = Table(
    name="items",
    description="The catalog, in any language.",
    key="item_id",
    role=TableRole.DIMENSION,
    extras_column="attributes",
    columns=(
        Column("item_id", _S, "The shop's own item id.", required=True),
        Column("title", _S, "Title, any language."),
        Column("description", _S, "Description, any language."),
        Column("category", _S, "Category path, levels separated by ' > '."),
        Column("brand", _S, "Brand."),
        Column("price", _F, "Current list price, in `currency`.", non_negative=True),
        Column("currency", _S, "ISO 4217 code."),
        Column("attributes", _J, "Anything else, as a JSON object."),
    ),
)

REVIEWS = Table(
    name="reviews",
    description="Product reviews.",
    key="review_id",
    role=TableRole.FACT,
    key_from_content=True,
    columns=(
        Column("review_id", _S, "Unique id; a hash of the row when the source has none."),
        Column("user_id", _S, "Author."),
        Column("item_id", _S, "Reviewed item."),
        Column("ts", _T, "When it was written, UTC."),
        Column("rating", _F, "Star rating, 1 to 5 (or 0.5 steps)."),
        Column("text", _S, "Review text, any language."),
        Column("language", _S, "Language code such as zh, en."),
    ),
)

EDGES = Table(
    name="edges",
    description="The social graph: who is connected to whom.",
    key="edge_id",
    role=TableRole.FACT,
    key_from_content=True,
    columns=(
        Column("edge_id", _S, "Hash of (src_user, dst_user, kind, ts) unless given."),
        Column("src_user", _S, "From user (the inviter, the followed, one friend).", required=True),
        Column("dst_user", _S, "To user.", required=True),
        Column("kind", _S, "friend, follow or referral.", required=True),
        Column("ts", _T, "When the connection was made, UTC."),
        Column("weight", _F, "Strength of the tie (default 1).", non_negative=True),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (EVENTS, USERS, ITEMS, REVIEWS, EDGES)}
"""All canonical tables, by name."""
