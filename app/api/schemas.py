"""The API's contract: pydantic models that validate requests and generate the OpenAPI document."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.bank.money import AMOUNT_PATTERN

Money = Field(pattern=AMOUNT_PATTERN, description="Euros as a decimal string with up to two places, e.g. \"12.50\"")


class Strict(BaseModel):
    """Unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


# --- errors ---------------------------------------------------------------------------------

class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable, e.g. invalid_tan")
    message: str = Field(description="For people")
    details: dict | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


# --- auth -----------------------------------------------------------------------------------

class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=254, description="The customer's e-mail address")
    password: str = Field(min_length=1, max_length=128)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["JWT"] = "JWT"
    expires_in: int = Field(description="Seconds until the token expires")


class LogoutOut(BaseModel):
    revoked: bool


# --- user and account -------------------------------------------------------------------------

class UserOut(BaseModel):
    firstName: str
    lastName: str
    email: str
    iban: str
    bic: str
    balance: str
    limit: str
    remaining: str = Field(description="The monthly limit minus this calendar month's outgoing transfers")


class LimitIn(Strict):
    limit: str = Money


class AccountOut(BaseModel):
    iban: str
    bic: str
    balance: str
    currency: Literal["EUR"]


class Tag(BaseModel):
    title: str
    color: str
    icon: str


class TagsOut(BaseModel):
    tags: list[Tag]


class DateRange(Strict):
    from_: date | None = Field(default=None, alias="from", description="First day (inclusive), YYYY-MM-DD")
    to: date | None = Field(default=None, description="Last day (inclusive), YYYY-MM-DD")


class ActivityQuery(DateRange):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)
    direction: Literal["in", "out"] | None = None
    tag: str | None = Field(default=None, max_length=64)


class ActivityItem(BaseModel):
    id: int
    direction: Literal["in", "out"]
    amount: str
    counterpartyName: str
    counterpartyIban: str
    comment: str
    tags: list[Tag]
    createdAt: str


class ActivityOut(BaseModel):
    items: list[ActivityItem]
    nextCursor: str | None


# --- transfers ------------------------------------------------------------------------------

class IdempotencyHeader(BaseModel):
    idempotency_key: str = Field(alias="Idempotency-Key", min_length=8, max_length=255,
                                 pattern=r"^[A-Za-z0-9_.:-]+$",
                                 description="A new random key (a UUID) per transfer attempt; "
                                             "a retry sends the same key")


class TransferIn(Strict):
    recipientIban: str = Field(min_length=15, max_length=42, description="IBAN; spaces are ignored")
    recipientName: str = Field(min_length=1, max_length=200, pattern=r"\S")
    amount: str = Money
    comment: str = Field(default="", max_length=500)
    tags: list[str] = Field(default_factory=list, max_length=6)


class TransferPath(BaseModel):
    transfer_id: int = Field(ge=1, le=2**62)


class ConfirmIn(Strict):
    tan: str = Field(pattern=r"^\d{6}$", description="The six-digit mTAN from the SMS")


class TransferOut(BaseModel):
    id: int
    status: Literal["pending", "booked", "cancelled", "expired", "rejected"]
    amount: str
    currency: Literal["EUR"]
    recipientIban: str
    recipientName: str
    comment: str
    tags: list[Tag]
    createdAt: str
    expiresAt: str | None
    bookedAt: str | None
    tanAttemptsLeft: int
    rejectReason: str | None


# --- statistics -----------------------------------------------------------------------------

class StatsQuery(DateRange):
    interval: Literal["daily", "monthly", "yearly"] = "monthly"
    direction: Literal["in", "out"] = "out"
    tag: str | None = Field(default=None, max_length=64)


class StatsPoint(BaseModel):
    period: str
    amount: str


class StatsOut(BaseModel):
    interval: Literal["daily", "monthly", "yearly"]
    direction: Literal["in", "out"]
    series: list[StatsPoint]


# --- notifications and the demo phone -------------------------------------------------------

class NotificationsQuery(Strict):
    after: int = Field(default=0, ge=0, le=2**62)


class Notification(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    type: str
    createdAt: str
    read: bool


class NotificationsOut(BaseModel):
    items: list[Notification]
    unread: int


class ReadIn(Strict):
    upTo: int = Field(ge=0, le=2**62)


class ReadOut(BaseModel):
    marked: int
    unread: int


class Sms(BaseModel):
    id: int
    phone: str
    body: str
    createdAt: str


class SmsOut(BaseModel):
    messages: list[Sms]


# --- health ---------------------------------------------------------------------------------

class DbHealth(BaseModel):
    status: Literal["ok", "slow", "down"]
    latency_ms: float | None


class LivenessOut(BaseModel):
    status: Literal["alive"]
    instance: str
    pid: int


class HealthOut(BaseModel):
    status: Literal["ok", "degraded", "down"]
    instance: str
    version: str
    pid: int
    uptime_seconds: float
    cpu_percent: float
    memory_rss_bytes: int
    memory_percent: float
    db: DbHealth
