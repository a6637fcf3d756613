"""A Starlette Route whose wrong-method answer is the emulator's own (a captured provider-shaped refusal, a
control-API 404) instead of Starlette's plain-text 405."""
from __future__ import annotations

from typing import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class MethodRoute(Route):
    def __init__(self, path: str, endpoint, *, methods: list[str],
                 wrong_method: Callable[[Request], Awaitable[Response]]):
        super().__init__(path, endpoint, methods=methods)
        self.wrong_method = wrong_method

    async def handle(self, scope, receive, send) -> None:
        if self.methods and scope["method"] not in self.methods:
            response = await self.wrong_method(Request(scope, receive))
            await response(scope, receive, send)
            return
        await super().handle(scope, receive, send)
