"""The Bot API's HTTP transport: python-telegram-bot's ``BaseRequest`` over aiohttp.

PTB's default transport (httpx through httpcore) costs about 2 ms of CPU a call
here, most of it in httpcore's pool, which checks every open connection (socket
readable? peer name?) before each request. A bot with 64 turns in flight keeps
dozens open, so each reply paid for all of them. aiohttp's connector hands out an
idle connection without looking at the others. ``BaseRequest`` is the interface
PTB documents for exactly this swap, and aiohttp is already what the webhook
tests' fake server runs on. See docs/telegram.md for the figures.

PTB does the rest unchanged: it builds the parameters, reads the status code
and the JSON, and turns errors into ``RetryAfter``, ``Forbidden``, ``BadRequest``.
This class only moves bytes and maps aiohttp's failures onto PTB's
``TimedOut`` and ``NetworkError``, with no URL in the message: it holds the token.
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue  # the types PTB's own transport uses
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's own defaults for HTTPXRequest, so changing the transport changes no behaviour.
READ_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_TIMEOUT = 20.0  # a whole upload, when a request carries a file
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    """One aiohttp session with up to ``pool_size`` keep-alive connections to the Bot API.

    Timeouts map as closely as aiohttp allows: read to ``sock_read``, connect to
    ``sock_connect``; aiohttp has no wait-for-the-pool limit of its own, so its
    ``connect`` (waiting for a free connection plus connecting) gets pool plus
    connect. It has no write timeout either; a file upload gets a total limit of
    ``MEDIA_TIMEOUT`` seconds instead.
    """

    __slots__ = ("_pool_size", "_read_timeout", "_session")

    def __init__(self, pool_size: int, read_timeout: float | None = READ_TIMEOUT) -> None:
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        # Made here, not in __init__: aiohttp binds the session to the running loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                trust_env=True,  # HTTPS_PROXY / NO_PROXY, as PTB's own httpx transport
                timeout=aiohttp.ClientTimeout(total=None, sock_read=self._read_timeout,
                                              sock_connect=CONNECT_TIMEOUT,
                                              connect=POOL_TIMEOUT + CONNECT_TIMEOUT),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        headers: dict[str, str] | None = None
        body: bytes | aiohttp.FormData | None = None
        files = request_data is not None and request_data.contains_files
        if request_data is not None and files:
            body = aiohttp.FormData(request_data.json_parameters)
            for field, (filename, content, mime) in request_data.multipart_data.items():
                body.add_field(field, content, filename=filename, content_type=mime)
        elif request_data is not None and request_data.json_parameters:
            body, headers = urlencode(request_data.json_parameters).encode(), FORM
        timeout = None  # the session's, unless this call asks for its own
        asked = (read_timeout, connect_timeout, pool_timeout)
        if files or not all(isinstance(t, DefaultValue) for t in asked):
            read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
            connect = CONNECT_TIMEOUT if isinstance(connect_timeout, DefaultValue) \
                else connect_timeout
            pool = POOL_TIMEOUT if isinstance(pool_timeout, DefaultValue) else pool_timeout
            timeout = aiohttp.ClientTimeout(
                total=MEDIA_TIMEOUT if files else None, sock_read=read, sock_connect=connect,
                connect=None if pool is None or connect is None else pool + connect)
        try:
            async with session.request(method, url, data=body, headers=headers,
                                       timeout=timeout or session.timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut(f"Bot API call timed out ({type(exc).__name__})") from None
        except aiohttp.ClientError as exc:
            raise NetworkError(f"Bot API call failed: aiohttp.{type(exc).__name__}") from None
