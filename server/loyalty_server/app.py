"""Builds and runs the aio gRPC server: servicer, interceptors, reflection, health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from loyalty.v1 import loyalty_pb2, loyalty_pb2_grpc

from . import security
from .api import reflection
from .api.auth import AuthInterceptor
from .api.interceptors import CallInterceptor
from .api.servicer import LoyaltyServicer
from .config import Settings
from .domain.gift_cards import GiftCards
from .domain.order_points import OrderPointsService
from .domain.point_holds import PointHolds
from .domain.points import Points
from .domain.store_credit import StoreCredit
from .observe import Observability
from .store.db import Database

log = logging.getLogger(__name__)

SERVICE_NAME = loyalty_pb2.DESCRIPTOR.services_by_name["LoyaltyService"].full_name


class LoyaltyApp:
    """The server and what it owns: the database pool and the health watcher."""

    def __init__(self, settings: Settings, observe: Observability | None = None) -> None:
        self.settings = settings
        self.auth = security.preflight(settings)  # ValueError: refuse to start, say why
        self.observe = observe or Observability.from_settings(settings)
        interceptors: list[grpc.aio.ServerInterceptor] = [CallInterceptor()]
        if self.auth.enabled:  # outermost: a refused call reaches nothing else
            interceptors.insert(
                0,
                AuthInterceptor(
                    self.auth,
                    open_health_and_reflection=not settings.auth_health_and_reflection,
                ),
            )
        if (observer := self.observe.interceptor()) is not None:
            interceptors.insert(0, observer)  # sees every call, refused ones too
        self.db = Database(settings.database_url, pool_size=settings.db_pool_size)
        self.observe.watch_database(self.db)
        self.health = health.aio.HealthServicer()
        self.server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", settings.max_message_bytes),
                # Several `serve --workers` processes share the port; one alone
                # keeps it exclusive, so a second copy fails with "address in use".
                ("grpc.so_reuseport", 1 if settings.workers > 1 else 0),
            ],
        )
        credit = StoreCredit(self.db)
        points = Points(self.db, allow_negative_balances=settings.allow_negative_balances)
        servicer = LoyaltyServicer(
            points,
            GiftCards(
                self.db,
                code_prefix=settings.gift_card_code_prefix,
                code_sections=settings.gift_card_code_sections,
                credit=credit,
            ),
            credit,
            PointHolds(self.db, points),
            OrderPointsService(self.db, points),
        )
        loyalty_pb2_grpc.add_LoyaltyServiceServicer_to_server(servicer, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server
        )
        credentials = security.server_credentials(settings)
        try:
            if credentials is None:
                self.port = self.server.add_insecure_port(settings.listen)
            else:
                self.port = self.server.add_secure_port(settings.listen, credentials)
        except RuntimeError:  # grpcio >= 1.5x raises where it used to return 0
            self.port = 0
        if self.port == 0:
            raise SystemExit(f"cannot listen on {settings.listen}: address in use or invalid")
        self._watcher: asyncio.Task[None] | None = None

    async def _set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", SERVICE_NAME):
            await self.health.set(name, status)
        self.observe.set_serving(serving)

    async def _watch_database(self) -> None:
        """Health follows the database: NOT_SERVING while it cannot be reached."""
        serving: bool | None = None
        while True:
            ok = await self.db.ping()
            if ok != serving:
                if serving is not None:
                    log.warning("database %s", "reachable again" if ok else "unreachable")
                await self._set_serving(ok)
                serving = ok
            await asyncio.sleep(self.settings.health_check_interval)

    async def start(self) -> None:
        await self.server.start()
        self._watcher = asyncio.create_task(self._watch_database())
        host = self.settings.listen.rsplit(":", 1)[0]
        security.warn_if_open(self.settings, self.auth)
        log.info(
            "serving",
            extra={
                "address": f"{host}:{self.port}",
                "database": self.db.url.render_as_string(),
                "auth": self.auth.describe(),
                "tls": security.tls_mode(self.settings),
            },
        )

    async def stop(self) -> None:
        """Stop accepting, let in-flight calls finish within the grace period, close the pool."""
        log.info("shutting down", extra={"grace_period_s": self.settings.grace_period})
        await self.health.enter_graceful_shutdown()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.server.stop(self.settings.grace_period)
        await self.db.close()
        self.observe.close()
        log.info("stopped")


async def serve(settings: Settings) -> None:
    app = LoyaltyApp(settings)
    await app.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    await app.stop()
