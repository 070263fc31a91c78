#!/usr/bin/env python3
"""Writes testdata/vectors/*.json as one line per case for the C and Mono test runners.

Strings are hex-encoded UTF-8 prefixed with 'x' ('x' alone is the empty string), so every byte
survives. Fields are separated by single spaces:

  parse   ID MODE xINPUT ok xRENDER FIELDS WARNINGS | parse ID MODE xINPUT err KIND SEGMENT OFFSET
  convert ID xINPUT simple|vector xEXPECT
  merge   ID FLAGS N xIN1 .. xINn ok xEXPECT    | merge ID FLAGS N xIN1 .. xINn err KIND
  compare ID xA xB less|equal|greater|concurrent
  explain ID xA xB N xLINE1 .. xLINEn    (compare.json's "explain": what each token lacks, as
                                          "A lacks ..." / "B lacks ..." lines, in order)
  scope   ID xTOKEN xRANGE N xP1 .. xPn ok xEXPECT | ... none | ... err KIND

WARNINGS is '-' when a parse has no warnings, else the warning codes in order joined by ','.
FIELDS is '-' when the case does not list fields, else the segments joined by '|', each
'xRANGE,FORMAT,VERSION,GLOBAL_LSN,REGIONS' with VERSION 'null' for simple values and REGIONS
'id=lsn' pairs joined by ';' (empty when none). SEGMENT is -1 when the error has none.
  container ID N STEP1 .. STEPn, each STEP one of
      cap:xNAME:xRID:xTOKEN|none:STATUS:SUB_STATUS:true|false:xRESOURCE_TYPE
                                                           (capture and whether it captured;
                                                            none = no header; type default docs)
      fgt:xCOLLECTION:xRANGE:true|false                    (forget_range and whether it was stored)
      res:xCOLLECTION:xRANGE:PARENTS:xEXPECT|none          (PARENTS '-' or xP1,xP2,...)
      all:xCOLLECTION:xEXPECT|none                         (resolve_all)
      clr:xCOLLECTION:true|false                           (clear and whether anything was stored)

  latest  ID N xRANGE1 xTOKEN1 .. xRANGEn xTOKENn xTARGET ok xEXPECT | ... err KIND
      (ranges "MIN-MAX"; KIND is the core's error code)

  seal    ID xTOKEN KEYHEX xCONTEXT xEXPECT
  unseal  ID xSEALED N KEYHEX1 .. KEYHEXn xCONTEXT ok xEXPECT | ... err KIND   (KEYHEX: key bytes in hex)

  cookie_keys    ID N SECRETHEX1 .. SECRETHEXn ok KEYHEX1 .. KEYHEXn | ... err KIND   (web.json)
  cookie_context ID xFRAMEWORK xAPP xSID xEXPECT
  cookie_header  ID xNAME xVALUE MAX_AGE 1|0 xEXPECT      (MAX_AGE -1: none; 1 = secure)
  fingerprint    ID xSID xEXPECT

  epk     ID KIND VERSION LEVELS xVALUE ok xEPK | ... err KIND_CODE   (epk.json; KIND 0 Hash, 1 MultiHash;
      LEVELS 0 = the number of components; xVALUE the partition key as JSON text)

  error   ID OP KIND STATUS DOTNET_CLASS ARGS...   (errors.json; STATUS = the category's C status,
      DOTNET_CLASS = the category's .NET exception) with ARGS by OP:
      parse MODE xINPUT | merge xA xB | scope xTOKEN xRANGE N xP1..xPn
      seal xTOKEN KEYHEX xCONTEXT MAX | unseal xSEALED N KEYHEX1..KEYHEXn xCONTEXT MAX
      latest N xRANGE1 xTOKEN1 .. xTARGET | capture xRESOURCE_TYPE xRID xTOKEN HTTP_STATUS
      restore xSNAPSHOT | carrier N KEYHEX1..KEYHEXn | state_open xCONNECTION_STRING
      state_get xSID | state_write_unlocked xSID   (in-memory session-state store)

FLAGS uses the C ABI bits: 2 = union regions, 4 = legacy max global LSN.
"""
import argparse
import json
from pathlib import Path

VECTORS = Path(__file__).resolve().parent.parent / "testdata" / "vectors"


def x(s: str) -> str:
    return "x" + s.encode("utf-8").hex()


def fields(ok) -> str:
    if ok is None:
        return "-"
    segs = []
    for s in ok["segments"]:
        version = "null" if s["version"] is None else str(s["version"])
        regions = ";".join(f"{r['id']}={r['lsn']}" for r in s["regions"])
        segs.append(f"{x(s['range_id'])},{s['format']},{version},{s['global_lsn']},{regions}")
    return "|".join(segs)


def flags(policy) -> int:
    if not policy:
        return 0
    return (2 if policy.get("region_mismatch") == "union" else 0) | (
        0 if policy.get("false_progress_protection", True) else 4)


def cases(name):
    return json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))["cases"]


def lines():
    for c in cases("parse"):
        head = f"parse {c['id']} {c['mode']} {x(c['input'])}"
        if "error" in c:
            e = c["error"]
            seg = -1 if e["segment"] is None else e["segment"]
            yield f"{head} err {e['kind']} {seg} {e['offset']}"
        else:
            warnings = ",".join(c.get("warnings", [])) or "-"
            yield f"{head} ok {x(c['render'])} {fields(c.get('ok'))} {warnings}"
    for c in cases("convert"):
        yield f"convert {c['id']} {x(c['input'])} {c['to']} {x(c['expect'])}"
    for c in cases("merge"):
        ins = " ".join(x(t) for t in c["inputs"])
        tail = f"err {c['error']}" if "error" in c else f"ok {x(c['expect'])}"
        yield f"merge {c['id']} {flags(c.get('policy'))} {len(c['inputs'])} {ins} {tail}"
    for c in cases("compare"):
        yield f"compare {c['id']} {x(c['a'])} {x(c['b'])} {c['expect']}"
        if "explain" in c:
            lines = "".join(" " + x(line) for line in c["explain"])
            yield f"explain {c['id']} {x(c['a'])} {x(c['b'])} {len(c['explain'])}{lines}"
    for c in cases("scope"):
        ps = "".join(" " + x(p) for p in c["parents"])
        if "error" in c:
            tail = f"err {c['error']}"
        elif c["expect"] is None:
            tail = "none"
        else:
            tail = f"ok {x(c['expect'])}"
        yield f"scope {c['id']} {x(c['token'])} {x(c['range_id'])} {len(c['parents'])}{ps} {tail}"


def step(s) -> str:
    def opt(v):
        return "none" if v is None else x(v)
    if s["op"] == "capture":
        rtype = x(s.get("resource_type", "docs"))
        return (f"cap:{x(s['name'])}:{x(s['rid'])}:{opt(s['token'])}:{s['status']}:{s['sub_status']}:"
                f"{str(s['expect']).lower()}:{rtype}")
    if s["op"] == "forget_range":
        return f"fgt:{x(s['collection'])}:{x(s['range_id'])}:{str(s['expect']).lower()}"
    if s["op"] == "resolve":
        parents = ",".join(x(p) for p in s["parents"]) or "-"
        return f"res:{x(s['collection'])}:{x(s['range_id'])}:{parents}:{opt(s['expect'])}"
    if s["op"] == "resolve_all":
        return f"all:{x(s['collection'])}:{opt(s['expect'])}"
    if s["op"] == "clear":
        return f"clr:{x(s['collection'])}:{str(s['expect']).lower()}"
    raise ValueError(s["op"])


def latest_lines():
    for c in cases("feed_range"):
        pairs = " ".join(f"{x(r)} {x(t)}" for r, t in c["pairs"])
        tail = f"err {c['error']}" if "error" in c else f"ok {x(c['expect'])}"
        yield f"latest {c['id']} {len(c['pairs'])} {pairs} {x(c['target'])} {tail}"


def seal_lines():
    for c in cases("seal"):
        if c["op"] == "seal":
            yield f"seal {c['id']} {x(c['token'])} {c['key_hex']} {x(c['context'])} {x(c['expect'])}"
        else:
            keys = "".join(" " + k for k in c["keys_hex"])
            tail = f"err {c['error']}" if "error" in c else f"ok {x(c['expect'])}"
            yield f"unseal {c['id']} {x(c['sealed'])} {len(c['keys_hex'])}{keys} {x(c['context'])} {tail}"


def web_lines():
    for c in cases("web"):
        op = c["op"]
        if op == "cookie_keys":
            secrets = "".join(" " + (h or "-") for h in c["secrets_hex"])
            tail = "ok" + "".join(" " + k for k in c["expect_hex"]) if "expect_hex" in c else f"err {c['error']}"
            yield f"cookie_keys {c['id']} {len(c['secrets_hex'])}{secrets} {tail}"
        elif op == "cookie_context":
            yield f"cookie_context {c['id']} {x(c['framework'])} {x(c['app'])} {x(c['sid'])} {x(c['expect'])}"
        elif op == "cookie_header":
            age = -1 if c["max_age"] is None else c["max_age"]
            yield f"cookie_header {c['id']} {x(c['name'])} {x(c['value'])} {age} {int(c['secure'])} {x(c['expect'])}"
        elif op == "fingerprint":
            yield f"fingerprint {c['id']} {x(c['sid'])} {x(c['expect'])}"
        else:
            raise SystemExit(f"web.json: unknown op {op}")


def epk_lines():
    for c in cases("epk"):
        kind = 0 if c["kind"] == "Hash" else 1
        levels = c.get("levels", 0)
        value = json.dumps(c["value"], ensure_ascii=False, separators=(",", ":"))
        tail = f"err {c['error']}" if "error" in c else f"ok {x(c['epk'])}"
        yield f"epk {c['id']} {kind} {c['version']} {levels} {x(value)} {tail}"


def container_lines():
    for c in cases("container"):
        yield f"container {c['id']} {len(c['steps'])} " + " ".join(step(s) for s in c["steps"])


def error_lines():
    doc = json.loads((VECTORS / "errors.json").read_text(encoding="utf-8"))
    for c in doc["cases"]:
        cat = doc["categories"][c["category"]]
        head = f"error {c['id']} {c['op']} {c['kind']} {cat['status']} {cat['dotnet']}"
        op = c["op"]
        if op == "parse":
            args = f"{c['mode']} {x(c['input'])}"
        elif op == "merge":
            args = " ".join(x(t) for t in c["inputs"])
        elif op == "scope":
            args = f"{x(c['token'])} {x(c['range_id'])} {len(c['parents'])}" + "".join(" " + x(p) for p in c["parents"])
        elif op == "seal":
            args = f"{x(c['token'])} {c['key_hex']} {x(c['context'])} {c['max_bytes']}"
        elif op == "unseal":
            args = f"{x(c['sealed'])} {len(c['keys_hex'])}" + "".join(" " + k for k in c["keys_hex"]) + f" {x(c['context'])} {c['max_bytes']}"
        elif op == "latest":
            args = f"{len(c['pairs'])} " + " ".join(f"{x(r)} {x(t)}" for r, t in c["pairs"]) + f" {x(c['target'])}"
        elif op == "capture":
            args = f"{x(c['resource_type'])} {x(c['rid'])} {x(c['token'])} {c['status']}"
        elif op == "restore":
            args = x(c["snapshot"])
        elif op == "carrier":
            args = f"{len(c['keys_hex'])}" + "".join(" " + k for k in c["keys_hex"])
        elif op == "state_open":
            args = x(c["connection_string"])
        elif op in ("state_get", "state_write_unlocked"):
            args = x(c["sid"])
        else:
            raise ValueError(op)
        yield f"{head} {args}"


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="scripts/vectors_to_lines.py", description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, metavar="OUT", help="the file to write (scripts/test: target/vectors.lines)")
    out = ap.parse_args().out
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(list(lines()) + list(container_lines()) + list(latest_lines()) + list(seal_lines()) + list(web_lines()) + list(epk_lines())
                     + list(error_lines())) + "\n"
    out.write_text(text, encoding="utf-8")
    print(f"{out}: {text.count(chr(10))} cases")
