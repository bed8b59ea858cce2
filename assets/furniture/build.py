#!/usr/bin/env python3
"""Rebuilds la-rochelle-furniture.csv from the city's open data (see SOURCE.txt).
Run from the repository root: python3 assets/furniture/build.py [SHARED_DATA_DIR]
Only needed when the source data changes; the product reads the CSV, never the sources."""
import csv, json, os, sys

src = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "data", "larochelle")
out = os.path.dirname(os.path.abspath(__file__))


def clean(text):
    return " ".join((text or "").split())


def abribus_label(p):
    place = " – ".join(x for x in (clean(p.get("adresse")), clean(p.get("adresse2"))) if x)
    return f"Abribus n° {p['id']}" + (f" ({place})" if place else "")


def hydrant_label(p):
    number = clean(p.get("pi_num")) or p["id"]
    street = clean(p.get("pi_rue"))
    return f"Poteau incendie n° {number}" + (f" ({street})" if street else "")


# (kind, file, id property, label function or None for the default "<Kind> n° <id>")
LAYERS = [
    ("banc", "mu_banc_wgs84", "banc_id", None),
    ("corbeille", "mu_corbeille_wgs84", "corb_id", None),
    ("abribus", "mu_abribus_wgs84", "id", abribus_label),
    ("poteau_incendie", "eau_poteau_incendie_wgs84", "id", hydrant_label),
    ("avaloir", "ep_ouvrage_engouffrement", "oe_id", None),
]

rows = []
for kind, name, id_key, label in LAYERS:
    for feature in json.load(open(os.path.join(src, "geojson", name + ".geojson"), encoding="utf-8"))["features"]:
        p = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"][:2]
        rows.append([kind, p[id_key], label(p) if label else "", f"{lat:.6f}", f"{lon:.6f}"])

with open(os.path.join(out, "la-rochelle-furniture.csv"), "w", encoding="utf-8", newline="") as f:
    f.write("""# Balade street furniture: one row per object. kind: banc, corbeille, abribus,
# poteau_incendie, avaloir (or any other code); id: the city's id, unique per kind; label: French
# label, empty for the default "<Kind> n° <id>"; lat, lon: WGS84 degrees (6 decimals, ~0.1 m).
# Lines starting with # are comments. Origin and licence: SOURCE.txt.
""")
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["kind", "id", "label", "lat", "lon"])
    w.writerows(rows)
print(len(rows), "objects")
