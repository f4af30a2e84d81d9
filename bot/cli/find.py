"""``podruga find``: search the directory by city or location, as staff would check it."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.cli.options import OptionParser, add_data_option
from bot.content.world import data_source
from bot.engine.listing import nothing_found, services_header
from bot.engine.translator import Translator
from bot.errors import OptionError, nearest
from bot.vocabulary import LANGS, NEEDS


def _needs(values: list[str]) -> list[str]:
    """Need ids from ``--need`` options; each may join several with '+' (``ost+free``)."""
    needs = []
    for value in values:
        for need in filter(None, value.replace(",", "+").split("+")):
            if need not in NEEDS:
                close = nearest(need, NEEDS)
                hint = f": did you mean {close!r}?" if close else \
                    f"; known needs: {', '.join(NEEDS)}"
                raise OptionError(f"unknown need {need!r}{hint}")
            needs.append(need)
    return needs


def _near(value: str) -> tuple[float, float]:
    try:
        lat, lon = (float(part) for part in value.split(","))
    except ValueError:
        raise OptionError(f"--near needs 'LAT,LON' like 50.45,30.52, not {value!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise OptionError(f"--near {value!r} is not a place on Earth: latitude comes first")
    return lat, lon


def _translator(root: Path, lang: str) -> Translator:
    """The catalog's translator for ``lang``; English msgids if the catalogs do not load."""
    try:
        from bot.content import i18n

        catalogs, errors = i18n.load(root / "locales")
    except (ImportError, OSError):
        catalogs, errors = None, []
    if catalogs is None or errors:
        if lang != "en":
            print(f"podruga find: the translations in {root / 'locales'} cannot be used "
                  "(`podruga check` says why): answering in English", file=sys.stderr)
        return Translator.identity(lang)
    return catalogs.get(lang)


def _find(argv: list[str], out: TextIO, err: TextIO) -> int:
    parser = OptionParser(prog="podruga find", description="Find services by city or location.")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--city", help="a city in any language or spelling")
    where.add_argument("--near", help="a location as LAT,LON")
    parser.add_argument("--need", action="append", default=[],
                        help="a need every service must meet (repeat, or join with '+')")
    parser.add_argument("--radius", type=float, default=50, help="km around --near (default 50)")
    parser.add_argument("--lang", default="en", help="uk, ru or en (default en)")
    parser.add_argument("--json", action="store_true", help="one JSON object per service a line")
    add_data_option(parser)
    args = parser.parse_args(argv)
    if args.lang not in LANGS:
        raise OptionError(f"--lang must be uk, ru or en, not {args.lang!r}")
    if args.radius <= 0:
        raise OptionError("--radius must be more than 0 km")
    needs = _needs(args.need)
    near = _near(args.near) if args.near else None
    root = data_source(args.data)[0]

    from bot.content.directory import format_hours, load, render_card, render_hotline

    directory, errors, _issues = load(root / "directory")
    if errors:
        for error in errors:
            print(error, file=err)
        print(f"the directory has {len(errors)} error(s): fix them first", file=err)
        return 1
    tr = _translator(root, args.lang)
    city = None
    if args.city is not None:
        city = directory.find_city(args.city)
        if city is None:
            print(f"no city called {args.city!r} is known; add it to directory/cities.yaml",
                  file=err)
            return 1
        found = directory.search(needs, city=city.id)
    else:
        found = directory.search(needs, near=near, radius_km=args.radius)
    now = datetime.now(UTC)
    if args.json:
        for item in found:
            service = item.service
            record: dict[str, object] = {
                "id": service.id,
                "name": service.name[args.lang],
                "city": service.city.name(args.lang),
                "city_id": service.city.id,
                "country": service.country,
            }
            if near is not None or item.elsewhere:
                record["distance_km"] = round(item.distance_km or 0.0, 2)
            record.update({
                "elsewhere": item.elsewhere,
                "phone": service.phones[0] if service.phones else None,
                "hours": format_hours(service.hours, tr) if service.hours else None,
                "approximate": service.approximate,
                "address_confidential": service.address_confidential,
                "verified": service.verified.isoformat() if service.verified else None,
            })
            record.update({need: service.has(need) for need in NEEDS})
            print(json.dumps(record, ensure_ascii=False), file=out)
        return 0
    # The engine's own words around the list (bot/engine/listing.py), so staff read what
    # she would; all the services at once, where she pages through them.
    header = services_header(tr, city.name(args.lang) if city else "",
                             elsewhere=bool(found) and found[0].elsewhere)
    if header and found:  # as on her screen: nothing found is said without a header
        print(header + "\n", file=out)
    for item in found:
        print(render_card(item, args.lang, tr, now).text, file=out)
        print(file=out)
    if not found:
        country = city.country if city else None
        if country is None and near is not None:
            from bot.content.directory.places import COUNTRIES

            inside = next((c for c in COUNTRIES.values() if c.contains(*near)), None)
            country = inside.code if inside else None
        lines = directory.hotlines(country, needs) if country else []
        print(nothing_found(tr, [render_hotline(line, args.lang, tr) for line in lines]),
              file=out)
    return 0


def command(argv: Sequence[str]) -> int:
    """Find services by city or location."""
    return find_main(list(argv))


def find_main(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``podruga find (--city NAME | --near LAT,LON) [--need N ...] [--lang L] [--json]``."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        return _find(argv, out, err)
    except OptionError as exc:
        print(f"podruga find: {exc}", file=err)
        return 2
