"""Python client of the loyalty.v1.LoyaltyService gRPC service (points, gift cards and
store credit).

    from loyalty_client import LoyaltyClient

    with LoyaltyClient("127.0.0.1:50051", token="...") as client:
        client.adjust_points("cus_123", 100, reason="Welcome bonus")

:class:`AsyncLoyaltyClient` has the same methods for asyncio.
"""

from importlib import metadata as _metadata

from ._transport import DEFAULT_TIMEOUT
from .aio import AsyncLoyaltyClient
from .client import LoyaltyClient
from .errors import (
    Busy,
    Conflict,
    DeadlineExceeded,
    Duplicate,
    Forbidden,
    InvalidData,
    InvalidResponse,
    LoyaltyError,
    NotAllowed,
    NotFound,
    Unauthorized,
    Unavailable,
)
from .retry import NO_RETRY, RetryPolicy
from .types import (
    UNSET,
    AccountEntry,
    AccountMovementResult,
    AccountStats,
    AccountTransaction,
    AccountTransactionList,
    AccountTransactionResult,
    AccountTransactionType,
    AdjustPointsResult,
    Amount,
    CapturePointsHoldResult,
    EarnOrderPointsResult,
    FieldViolation,
    GiftCard,
    GiftCardList,
    GiftCardOptions,
    GiftCardStatus,
    GiftCardTransaction,
    GiftCardTransactionResult,
    GiftCardUpdate,
    HoldPointsResult,
    NewGiftCard,
    NewStoreCreditAccount,
    OrderPoints,
    Page,
    PointAdjustment,
    PointsAdjustmentInput,
    PointsBalance,
    PointsHold,
    PointsHoldStatus,
    ReverseOrderPointsResult,
    StoreCreditAccount,
    StoreCreditAccountList,
    StoreCreditAccountUpdate,
    TLSConfig,
    TransactionType,
)

try:  # pyproject.toml is the one source of the version
    __version__ = _metadata.version("medusa-loyalty-service")
except _metadata.PackageNotFoundError:  # a source tree that is not installed
    __version__ = "unknown"

__all__ = [
    "DEFAULT_TIMEOUT",
    "NO_RETRY",
    "UNSET",
    "AccountEntry",
    "AccountMovementResult",
    "AccountStats",
    "AccountTransaction",
    "AccountTransactionList",
    "AccountTransactionResult",
    "AccountTransactionType",
    "AdjustPointsResult",
    "Amount",
    "AsyncLoyaltyClient",
    "Busy",
    "CapturePointsHoldResult",
    "Conflict",
    "DeadlineExceeded",
    "Duplicate",
    "EarnOrderPointsResult",
    "FieldViolation",
    "Forbidden",
    "GiftCard",
    "GiftCardList",
    "GiftCardOptions",
    "GiftCardStatus",
    "GiftCardTransaction",
    "GiftCardTransactionResult",
    "GiftCardUpdate",
    "HoldPointsResult",
    "InvalidData",
    "InvalidResponse",
    "LoyaltyClient",
    "LoyaltyError",
    "NewGiftCard",
    "NewStoreCreditAccount",
    "NotAllowed",
    "NotFound",
    "OrderPoints",
    "Page",
    "PointAdjustment",
    "PointsAdjustmentInput",
    "PointsBalance",
    "PointsHold",
    "PointsHoldStatus",
    "RetryPolicy",
    "ReverseOrderPointsResult",
    "StoreCreditAccount",
    "StoreCreditAccountList",
    "StoreCreditAccountUpdate",
    "TLSConfig",
    "TransactionType",
    "Unauthorized",
    "Unavailable",
]
