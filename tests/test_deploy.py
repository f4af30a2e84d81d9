"""The deployment files in deploy/ (and the container files) are checked, not just shipped.

- the systemd unit restarts on "a dependency is down" and not on "a person must
  fix something", with the exit codes `podruga run` really uses, and passes
  `systemd-analyze verify` where systemd-analyze is installed;
- every nginx configuration passes `nginx -t` where nginx is installed (Debian:
  `apt-get install nginx-light`), with a throw-away certificate.
"""

from __future__ import annotations

import configparser
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.telegram.run import EXIT_CONFIG, EXIT_CONTENT, EXIT_UNAVAILABLE
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
