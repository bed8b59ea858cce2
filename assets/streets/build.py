#!/usr/bin/env python3
"""Rebuilds la-rochelle-streets.csv and la-rochelle-number-ranges.csv from the city's open data
(see SOURCE.txt). Run from the repository root: python3 assets/streets/build.py [SHARED_DATA_DIR]
Only needed when the source data changes; the product reads the CSVs, never the sources."""
import csv, json, os, sys, unicodedata

src = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "data", "larochelle")
out = os.path.dirname(os.path.abspath(__file__))
POSTCODE, CITY = "17000", "La Rochelle"  # codes_postaux_dept17.csv: 17000,17300,La Rochelle


def fold(text):
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


liste = {r["voie_id"]: r for r in csv.DictReader(open(os.path.join(src, "tables/voies_liste.csv"), encoding="utf-8"))}
types = {fold(r["tv_libelle"]) for r in csv.DictReader(open(os.path.join(src, "tables/types_voie.csv"), encoding="utf-8"))}
points = json.load(open(os.path.join(src, "geojson/voirie_filaire_toponymie_wgs84.geojson"), encoding="utf-8"))["features"]

rows, placed = [], set()
for feature in points:
    props = feature["properties"]
    voie_id = props.get("voie_id", "")
    lon, lat = feature["geometry"]["coordinates"][:2]
    fantoir = liste.get(voie_id, {}).get("voie_code_fantoir", "")
    rows.append([voie_id, fantoir, props["voie_lib"].strip(), POSTCODE, CITY, f"{lat:.7f}", f"{lon:.7f}"])
    placed.add(voie_id)
# Streets of the list that have no name point: searchable by name, not placeable.
for voie_id, r in liste.items():
    name = r["voie_libelle"].strip()
    if voie_id in placed or fold(name) in types or not fold(name):
        continue
    rows.append([voie_id, r["voie_code_fantoir"], name, POSTCODE, CITY, "", ""])

header = """# Balade street referential: one row per street-name point (a street may have several).
# voie_id: the city's street id (may be empty); fantoir: RIVOLI code of the street within its
# commune (may be empty); name: street name as the city writes it; postcode, city: for the label
# "<name>, <postcode> <city>"; lat, lon: WGS84 degrees, both empty for a street known by name only.
# Lines starting with # are comments. Origin and licence: SOURCE.txt.
"""
with open(os.path.join(out, "la-rochelle-streets.csv"), "w", encoding="utf-8", newline="") as f:
    f.write(header)
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["voie_id", "fantoir", "name", "postcode", "city", "lat", "lon"])
    w.writerows(rows)

ranges, skipped = set(), []
for r in csv.DictReader(open(os.path.join(src, "tables/voies_troncons_numeros_bureaux_vote.csv"), encoding="utf-8")):
    if int(r["voie_numero_debut"]) > int(r["voie_numero_fin"]):
        skipped.append(r)  # e.g. Rue Marius Lacroix odd side 1001..999: inconsistent in the source
        continue
    side = {"Cote pair": "even", "Cote impair": "odd"}[r["voie_parite"]]
    ranges.add((int(r["voie_identifiant_filaire"]), r["voie_fantoir"], side, int(r["voie_numero_debut"]),
                r["voie_indice_repetition_debut"], int(r["voie_numero_fin"]), r["voie_indice_repetition_fin"]))
with open(os.path.join(out, "la-rochelle-number-ranges.csv"), "w", encoding="utf-8", newline="") as f:
    f.write("""# Balade house-number ranges: which numbers exist on which side of a street (voie_id as in
# la-rochelle-streets.csv). side: even|odd; first/last: numbers; *_suffix: bis, ter... or empty.
""")
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["voie_id", "fantoir", "side", "first", "first_suffix", "last", "last_suffix"])
    w.writerows(sorted(ranges))
print(len(rows), "street rows,", len(ranges), "number ranges, skipped (first > last):", skipped)
