"""Extract every shipped string and update the PO files (``podruga catalogs``).

The same job as ``pybabel extract`` + ``pybabel update`` run once per domain
(README shows that loop), in one command: one domain per flow file, ``bot``
for what the code shows women, and ``check`` for what ``podruga check`` and
``/reload`` tell staff (``C_``/``CN_`` in the code). English is the source
language, so ``en`` entries that are still empty get the English text itself;
``uk`` and ``ru`` entries are left for translators (new ones empty, changed
ones marked fuzzy by Babel).
A catalog whose entries did not change is left as it is (its
``POT-Creation-Date`` too), so a run on an up-to-date checkout changes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.content import i18n
from bot.content.extract import flow_messages
from bot.errors import OptionError
from bot.vocabulary import LANGS

HEADER = "Podruga: translations. English is the source language."


def templates(root: Path) -> dict[str, Catalog]:
    """One template catalog per domain: each flow file, and ``bot`` for the code."""
    found: dict[str, Catalog] = {}
    for path in sorted((root / "flows").glob("*.yaml")):
        rel = str(path.relative_to(root))
        template = Catalog(domain=path.stem, project="podruga", header_comment=f"# {HEADER}")
        for line, context, msgid, comment in flow_messages(path.read_text("utf-8"), rel):
            template.add(msgid, locations=[(rel, line)], auto_comments=[comment], context=context)
        if len(template):
            found[path.stem] = template
    code = {domain: Catalog(domain=domain, project="podruga", header_comment=f"# {HEADER}")
            for domain in (i18n.CODE_DOMAIN, i18n.CHECK_DOMAIN)}
    for want in i18n.wanted_from_code(root / "bot", root):
        message: str | tuple[str, str] = (want.msgid, want.plural) if want.plural else want.msgid
        # Babel's Catalog merges the locations of a string that is already there.
        code[want.domain].add(message, locations=[(want.path, want.line)], context=want.context)
    found.update(code)
    return found


def update(root: Path, langs: Sequence[str] = LANGS,
           domains: Sequence[str] = ()) -> list[str]:
    """Bring every language's PO files in line with the templates; return what changed."""
    report = []
    found = templates(root)
    unknown = sorted(set(domains) - set(found))
    if unknown:
        raise OptionError(f"--domain: no domain {', '.join(map(repr, unknown))} in {root}; "
                          f"the domains are {', '.join(sorted(found))}")
    for domain, template in found.items():
        if domains and domain not in domains:
            continue
        for lang in langs:
            path = root / "locales" / lang / "LC_MESSAGES" / f"{domain}.po"
            if path.exists():
                with path.open("rb") as fp:
                    catalog = read_po(fp, locale=lang, domain=domain)
            else:
                catalog = Catalog(locale=lang, domain=domain, project="podruga",
                                  header_comment=f"# {HEADER}")
            catalog.update(template, update_header_comment=False, update_creation_date=False)
            if lang == "en":
                for message in catalog:
                    strings = message.string if isinstance(message.string, tuple) else (
                        message.string,)
                    if message.id and (not all(strings) or message.fuzzy):
                        message.string = message.id
                        message.flags.discard("fuzzy")
            old = path.read_bytes() if path.exists() else None
            new = _po_bytes(catalog)
            if new != old:  # only then is it a new version of the catalog
                catalog.creation_date = template.creation_date
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(_po_bytes(catalog))
            untranslated = sum(1 for m in catalog if m.id and (m.fuzzy or not all(
                m.string if isinstance(m.string, tuple) else (m.string,))))
            report.append(f"{path.relative_to(root)}: {len(catalog)} strings, "
                          f"{untranslated} to translate{'' if new != old else ' (unchanged)'}")
    return report


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    # No "#| msgid" lines: Babel wraps a long previous msgid in the middle of a
    # string, which msgfmt then rejects as a syntax error.
    write_po(out, catalog, width=100, ignore_obsolete=True)
    return out.getvalue()
