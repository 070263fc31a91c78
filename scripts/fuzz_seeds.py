#!/usr/bin/env python3
"""Seeds core/fuzz/corpus/<target>/ from testdata/vectors (run before fuzzing; scripts/test's fuzz
stage runs it). Inputs that once failed, kept in core/fuzz/regressions/<target>/, are seeded too."""
import argparse
import hashlib
import json
from pathlib import Path

argparse.ArgumentParser(prog="scripts/fuzz_seeds.py", description=__doc__).parse_args()
ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "testdata" / "vectors"
CORPUS = ROOT / "core" / "fuzz" / "corpus"


def cases(name):
    return json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))["cases"]


def put(target, text):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


tokens = [c["input"] for c in cases("parse")]
for t in tokens:
    put("parse", t)
    put("parse_differential", t)
for c in cases("merge"):
    put("merge_compare", c["inputs"][0] + "\n" + c["inputs"][1])
for c in cases("compare"):
    put("merge_compare", c["a"] + "\n" + c["b"])
for c in cases("feed_range"):
    put("feed_range", "\n".join([c["target"]] + [f"{r}={t}" for r, t in c["pairs"]]))
for c in cases("seal"):
    put("unseal", c.get("sealed") or c.get("expect", ""))
put("container_restore", '{"format":"cosmos-session-token/container","version":1,"collections":[{"rid":"r","names":["dbs/a/colls/b"],"token":"0:1#5,1:-1#42"}]}')
put("container_restore", '{"format":"cosmos-session-token/container","version":1,"collections":[]}')

RANGES = '{"PartitionKeyRanges":[{"id":"1","minInclusive":"","maxExclusive":"3F","parents":["0"]},{"id":"2","minInclusive":"3F","maxExclusive":"FF","parents":["0"]}]}'
for c in cases("epk"):
    put("routing", json.dumps(c["value"], ensure_ascii=False) + "\n" + RANGES + "\n0:1#5,1:1#9")

# What the store reads from the service: an endpoint, an account description, a pkranges page.
ACCOUNT = ('{"writableLocations":[{"name":"West US","databaseAccountEndpoint":"https://acct-westus.documents.azure.com:443/"}],'
           '"readableLocations":[{"name":"West US","databaseAccountEndpoint":"https://acct-westus.documents.azure.com:443/"},'
           '{"name":"East US","databaseAccountEndpoint":"http://127.0.0.2:9/"},{"name":"x","databaseAccountEndpoint":"https://u:p@evil.example/"}],'
           '"enableMultipleWriteLocations":false}')
for endpoint in ["https://acct.documents.azure.com:443/", "http://127.0.0.1:8081/", "https://acct.privatelink.documents.azure.com/"]:
    put("account_and_pages", endpoint + "\n" + ACCOUNT + "\n" + RANGES)
put("account_and_pages", "https://acct.documents.azure.com/\n{\"writableLocations\": [\n" + '{"PartitionKeyRanges":[{"id":0,"minInclusive":"","maxExclusive":"FF"}]}')

# Inputs that once failed are kept in core/fuzz/regressions/<target>/ and always replayed.
for f in (ROOT / "core" / "fuzz" / "regressions").glob("*/*"):
    put(f.parent.name, f.read_text(encoding="utf-8", errors="surrogateescape"))
print(f"seeded {sum(1 for _ in CORPUS.rglob('*') if _.is_file())} files under {CORPUS.relative_to(ROOT)}")
