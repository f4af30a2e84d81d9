"""Export of the directory as Open Referral HSDS 3 tables (JSON), with Podruga's profile.

One JSON array per table, named as HSDS names them (``services.json`` ...).
Ids are UUIDs derived from the entries' own ids (uuid5), so the same
directory always exports the same ids. What HSDS has no field for (the uk/ru
texts, women-only hours, approximate and confidential locations) follows the
profile in ``docs/hsds-profile.md``. A confidential address is never
exported, nor are coordinates that only stand for the city centre.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from bot.content.directory.hours import Hours, as_time
from bot.content.directory.model import Directory, Hotline, Service, Texts
from bot.vocabulary import NEEDS

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "podruga:directory")
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
TABLES = (
    "organizations", "services", "locations", "addresses", "phones", "schedules",
    "service_at_locations", "attributes", "taxonomies", "taxonomy_terms",
)
TAXONOMY_ID = str(uuid.uuid5(_NAMESPACE, "taxonomy:needs"))


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(parts)))


def _translations(**fields: Texts | None) -> dict[str, dict[str, str]]:
    """The profile's ``translations``: {lang: {field: text}} for uk and ru (en is the main text)."""
    out: dict[str, dict[str, str]] = {}
    for name, texts in fields.items():
        for lang, text in (texts or {}).items():
            if lang != "en":
                out.setdefault(lang, {})[name] = text
    return out


def _schedules(owner: str, hours: tuple[Hours, ...], tz: str, women_only: bool,
               tables: dict[str, list[dict[str, Any]]]) -> None:
    for index, line in enumerate(hours):
        schedule_id = _uuid("schedule", owner, "women" if women_only else "all", str(index))
        tables["schedules"].append({
            "id": schedule_id,
            "service_id": _uuid("service", owner),
            "freq": "WEEKLY",
            "byday": ",".join(_BYDAY[d] for d in sorted(line.days)),
            "opens_at": as_time(line.opens).strftime("%H:%M"),
            "closes_at": as_time(line.closes).strftime("%H:%M"),
            "description": line.text + (" (women only)" if women_only else ""),
            "timezone_name": tz,
        })
        if women_only:
            tables["attributes"].append({
                "id": _uuid("attribute", owner, "schedule", str(index)),
                "link_id": schedule_id,
                "link_entity": "schedule",
                "link_type": "eligibility",
                "taxonomy_term_id": _uuid("term", "women_only"),
                "value": "true",
            })


def _service(service: Service, tables: dict[str, list[dict[str, Any]]]) -> None:
    org_texts = service.organization or service.name
    org_id = _uuid("organization", service.country, org_texts["en"])
    if not any(o["id"] == org_id for o in tables["organizations"]):
        tables["organizations"].append({
            "id": org_id,
            "name": org_texts["en"],
            "description": (service.description or service.name)["en"],
            "translations": _translations(name=org_texts),
        })
    service_id = _uuid("service", service.id)
    record: dict[str, Any] = {
        "id": service_id,
        "organization_id": org_id,
        "name": service.name["en"],
        "description": (service.description or {}).get("en", ""),
        "status": "active",
        "translations": _translations(name=service.name, description=service.description,
                                      eligibility_description=service.for_whom),
        "podruga_id": service.id,
    }
    if service.for_whom:
        record["eligibility_description"] = service.for_whom["en"]
    if service.website:
        record["url"] = service.website
    if service.verified:
        record["assured_date"] = service.verified.isoformat()
    tables["services"].append(record)

    location_id = _uuid("location", service.id)
    location: dict[str, Any] = {
        "id": location_id,
        "location_type": "physical",
        "organization_id": org_id,
        "name": service.name["en"],
        "approximate": service.approximate,
        "address_confidential": service.address_confidential,
        "city_id": service.city.id,
    }
    if not (service.approximate or service.address_confidential):
        location["latitude"], location["longitude"] = service.lat, service.lon
    tables["locations"].append(location)
    if not service.address_confidential:
        tables["addresses"].append({
            "id": _uuid("address", service.id),
            "location_id": location_id,
            "address_1": (service.address or {}).get("en", ""),
            "city": service.city.names["en"],
            "state_province": "",
            "postal_code": "",
            "country": service.country,
            "address_type": "physical",
        })
    tables["service_at_locations"].append({
        "id": _uuid("service_at_location", service.id),
        "service_id": service_id,
        "location_id": location_id,
    })
    for index, number in enumerate(service.phones):
        tables["phones"].append({"id": _uuid("phone", service.id, str(index)),
                                 "service_id": service_id, "number": number, "type": "voice"})
    _schedules(service.id, service.hours, service.tz, False, tables)
    _schedules(service.id, service.women_only_hours, service.tz, True, tables)
    for need in sorted(service.attributes):
        tables["attributes"].append(_attribute(service.id, service_id, need))


def _attribute(owner: str, link_id: str, need: str) -> dict[str, Any]:
    return {
        "id": _uuid("attribute", owner, need),
        "link_id": link_id,
        "link_entity": "service",
        "link_type": "eligibility" if need in _ELIGIBILITY else "service_type",
        "taxonomy_term_id": _uuid("term", need),
        "value": "true",
    }


_ELIGIBILITY = {"women_only", "pregnant", "children", "active_use", "no_documents"}


def _hotline(hotline: Hotline, tables: dict[str, list[dict[str, Any]]]) -> None:
    service_id = _uuid("service", hotline.id)
    record: dict[str, Any] = {
        "id": service_id,
        "name": hotline.name["en"],
        "description": (hotline.description or {}).get("en", ""),
        "status": "active",
        "translations": _translations(name=hotline.name, description=hotline.description),
        "podruga_id": hotline.id,
        "hotline": True,
        "country": hotline.country,
        "check": hotline.check,
    }
    if hotline.verified:
        record["assured_date"] = hotline.verified.isoformat()
    tables["services"].append(record)
    tables["phones"].append({"id": _uuid("phone", hotline.id, "0"), "service_id": service_id,
                             "number": hotline.phone, "type": "voice"})
    for need in sorted(hotline.attributes):
        tables["attributes"].append(_attribute(hotline.id, service_id, need))


def tables(directory: Directory) -> dict[str, list[dict[str, Any]]]:
    """Every HSDS table of the directory, as lists of records."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    out["taxonomies"].append({
        "id": TAXONOMY_ID,
        "name": "Podruga needs",
        "description": "What a woman who uses drugs may need from a service, "
                       "as filters in the Podruga bot.",
    })
    for need, label in NEEDS.items():
        out["taxonomy_terms"].append({
            "id": _uuid("term", need), "code": need, "name": label, "description": label,
            "taxonomy_id": TAXONOMY_ID, "language": "en",
        })
    for service in directory.services:
        _service(service, out)
    for hotline in directory.hotline_list:
        _hotline(hotline, out)
    return out


def export(directory: Directory, out_dir: Path) -> list[Path]:
    """Write one ``<table>.json`` per HSDS table into ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, records in tables(directory).items():
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(records, ensure_ascii=False, indent=2) + "\n",
                        encoding="utf-8")
        written.append(path)
    return written
