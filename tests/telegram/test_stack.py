"""compose.yaml's stack, piece by piece, as processes on this machine (it has no Docker engine).

PostgreSQL (127.0.0.1:5432, database `test`, a schema of this test's own), the bot
as `podruga run --webhook ... --health-port ...` reading the checkout's content
through PODRUGA_DATA, and nginx with deploy/nginx-compose.conf (only its listen
ports, the bot's address and the certificate swapped for this machine's). A
webhook call through nginx gets her answer from the fake Bot API; without the
secret token it is refused; /health answers 200 and the bot stops cleanly.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from fakeapi import FakeBotApi

from tests.test_deploy import _certificate

pytestmark = [pytest.mark.e2e, pytest.mark.postgres,
              pytest.mark.skipif(shutil.which("nginx") is None,
                                 reason="nginx is not installed (apt-get install nginx-light)")]
ROOT = Path(__file__).resolve().parents[2]
HOOK_SECRET = "stack-test-webhook-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _nginx(tmp_path: Path, bot_port: int, https_port: int, http_port: int) -> subprocess.Popen:  # type: ignore[type-arg]
    tmp_path.mkdir()
    chain, key = _certificate(tmp_path)
    site = (ROOT / "deploy" / "nginx-compose.conf").read_text(encoding="utf-8")
    for old, new in (("http://bot:8443", f"http://127.0.0.1:{bot_port}"),
                     ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
                     ("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     ("/etc/nginx/tls/fullchain.pem", str(chain)),
                     ("/etc/nginx/tls/privkey.pem", str(key))):
        assert old in site, old
        site = site.replace(old, new)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "logs").mkdir()
    main = tmp_path / "nginx.conf"
    main.write_text(f"user root;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\n"
                    f"events {{}}\nhttp {{\n    include {tmp_path}/site.conf;\n}}\n",
                    encoding="utf-8")
    with open(tmp_path / "logs" / "stderr.log", "wb") as err:
        return subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(main),
                                 "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=err)


async def _until_answers(url: str, seconds: float = 30.0, **kwargs: object) -> int:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url, **kwargs) as response:  # type: ignore[arg-type]
                    if response.status == 200 or time.monotonic() > deadline:
                        return response.status
            except aiohttp.ClientError:
                assert time.monotonic() < deadline, f"{url} never answered"
            await asyncio.sleep(0.1)


async def test_the_stack_serves_a_webhook_through_nginx(tmp_path: Path, pg_url: str) -> None:
    bot_port, health_port, https_port, http_port = (_free_port() for _ in range(4))
    nginx = bot = None
    try:
        async with FakeBotApi() as api:
            env = {k: v for k, v in os.environ.items() if not k.startswith("PODRUGA_")}
            env.update({"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.base_url,
                        "PODRUGA_SECRET": secrets.token_urlsafe(48),
                        "PODRUGA_WEBHOOK_SECRET": HOOK_SECRET,
                        "PODRUGA_DB": pg_url,
                        "PODRUGA_DATA": str(ROOT), "PYTHONPATH": str(ROOT)})
            log = tmp_path / "bot.log"
            with open(log, "wb") as out:
                bot = subprocess.Popen(
                    [sys.executable, "-m", "bot.cli", "run", "--webhook",
                     "https://bot.example.org/tg/hook", "--listen", "127.0.0.1",
                     "--port", str(bot_port), "--health-port", str(health_port)],
                    env=env, cwd=tmp_path, stdout=out, stderr=out)
            health = f"http://127.0.0.1:{health_port}/health"
            assert await _until_answers(health) == 200, log.read_text()
            assert api.webhook["url"] == "https://bot.example.org/tg/hook"
            nginx = _nginx(tmp_path / "nginx", bot_port, https_port, http_port)
            hook = f"https://127.0.0.1:{https_port}/tg/hook"
            insecure = ssl.create_default_context()
            insecure.check_hostname = False
            insecure.verify_mode = ssl.CERT_NONE
            her = api.woman(8101, language_code="uk")
            said = her.say("/start")
            update = next(u for u in api.updates if u["update_id"] == said)
            async with aiohttp.ClientSession() as session:
                deadline = time.monotonic() + 10
                while True:  # until nginx listens
                    try:
                        async with session.post(hook, json=update, ssl=insecure) as response:
                            refused = response.status  # no secret token: the bot says 403
                        break
                    except aiohttp.ClientConnectionError:
                        assert nginx.poll() is None, (tmp_path / "nginx" / "logs" /
                                                      "stderr.log").read_text()
                        assert time.monotonic() < deadline, "nginx never listened"
                        await asyncio.sleep(0.1)
                assert refused == 403
                async with session.get(hook, ssl=insecure) as response:
                    assert response.status == 403  # nginx: POST only
                headers = {"X-Telegram-Bot-Api-Secret-Token": HOOK_SECRET}
                async with session.post(hook, json=update, headers=headers,
                                        ssl=insecure) as response:
                    assert response.status == 200
                async with session.get(f"http://127.0.0.1:{http_port}/tg/hook",
                                       allow_redirects=False) as response:
                    assert response.status == 301
            deadline = time.monotonic() + 15
            while not any(c.params.get("chat_id") == her.id for c in api.called("sendMessage")):
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.05)
            async with aiohttp.ClientSession() as session, session.get(health) as response:
                body = await response.json()
            assert body["status"] == "ok" and body["store"] == "postgres" and body["shared"]
            bot.send_signal(signal.SIGTERM)
            code = await asyncio.get_running_loop().run_in_executor(None, bot.wait, 30)
            assert code == 0, log.read_text()
            text = log.read_text()
            assert "content root=" in text and "cluster joined" in text
            assert api.token not in text and "8101" not in text
    finally:
        for proc in (bot, nginx):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
