"""The cost of cosmos_session_token.azure's hooks per request, and the header bytes they send.

Both hooks (raw_request_hook + raw_response_hook) run on objects shaped like azure-core's
(PipelineRequest.http_request with method/url/headers, PipelineResponse.http_response with
status_code/headers/body()), for a point read on a container whose definition and routing map the
flow has learned, with a one-range token in the response; every request reads another partition
key (varied inputs). Prints one JSON object: p50/p90 nanoseconds per request (both hooks), and the
header bytes a point read presents on a container of 1,000 ranges against the composite the SDK
would send; then (azure_core_p50_ns/azure_core_p90_ns) the same run with azure-core's own request
headers class and requests' response headers class, as the sync transport hands them over.
Run: .venv/bin/python benches/python_flow_hooks.py
"""

import json
import statistics
import time

from cosmos_session_token.azure import SessionFlow

RANGES = 1000


class Headers(dict):
    """A case-insensitive dict, as azure-core's headers are."""

    def __init__(self, items=()):
        super().__init__()
        for k, v in dict(items).items():
            self[k] = v

    def __setitem__(self, k, v):
        super().__setitem__(k.lower(), v)

    def get(self, k, default=None):
        return super().get(k.lower(), default)


class Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def pkranges(n):
    step = 0xFE_FFFF // n  # bounds stay below "FF" (a 6-digit bound starting FF would sort after it)
    bound = lambda i: "" if i == 0 else "FF" if i == n else f"{i * step:06X}"
    return {"PartitionKeyRanges": [{"id": str(i), "minInclusive": bound(i), "maxExclusive": bound(i + 1), "parents": []}
                                   for i in range(n)]}


def learned_flow(n):
    flow = SessionFlow()
    hooks = flow.client_options()
    base = "http://127.0.0.1:8081/dbs/d/colls/c"
    for url, body in [(base, {"id": "c", "partitionKey": {"paths": ["/pk"], "kind": "Hash", "version": 2}}),
                      (base + "/pkranges", pkranges(n))]:
        req = Obj(method="GET", url=url, headers=Headers())
        resp = Obj(status_code=200, headers=Headers(), body=lambda b=json.dumps(body).encode(): b)
        hooks["raw_response_hook"](Obj(http_request=req, http_response=resp))
    # Progress in every range (as after writes across the container).
    composite = ",".join(f"{i}:0#{1000 + i}#0={1000 + i}" for i in range(n))
    req = Obj(method="POST", url=base + "/docs", headers=Headers())
    resp = Obj(status_code=201, headers=Headers({"x-ms-session-token": composite, "x-ms-content-path": "rid"}),
               body=lambda: b"")
    hooks["raw_response_hook"](Obj(http_request=req, http_response=resp))
    return flow, hooks, composite


def azure_core_headers():
    """azure-core's request headers class and requests' response headers class (what the sync
    transport hands the hooks), or None when they are not installed."""
    try:
        from azure.core.utils import CaseInsensitiveDict as RequestHeaders
        from requests.structures import CaseInsensitiveDict as ResponseHeaders
    except ImportError:
        return None
    return RequestHeaders, ResponseHeaders


def run(hooks, request_headers, response_headers):
    """Both hooks for 20,000 point reads (another partition key each); the per-request times after
    1,000 of warm-up, and the header bytes each read presented."""
    on_request, on_response = hooks["raw_request_hook"], hooks["raw_response_hook"]
    base = "http://127.0.0.1:8081/dbs/d/colls/c/docs/"
    keys = [f'["user-{i}"]' for i in range(20000)]
    samples = []
    sent_bytes = []
    for i, key in enumerate(keys):
        req = Obj(method="GET", url=base + f"item{i}", headers=request_headers({"x-ms-documentdb-partitionkey": key,
                                                                                  "x-ms-version": "2020-07-15"}))
        resp = Obj(status_code=200, headers=response_headers({"x-ms-session-token": f"{i % RANGES}:0#{2000 + i}#0={2000 + i}",
                                                              "x-ms-content-path": "rid"}), body=lambda: b"")
        pipeline_request, pipeline_response = Obj(http_request=req), Obj(http_request=req, http_response=resp)
        t0 = time.perf_counter_ns()
        on_request(pipeline_request)
        on_response(pipeline_response)
        samples.append(time.perf_counter_ns() - t0)
        sent_bytes.append(len(req.headers.get("x-ms-session-token", "")))
    return samples[1000:], sent_bytes


def main():
    flow, hooks, composite = learned_flow(RANGES)
    samples, sent_bytes = run(hooks, Headers, Headers)
    q = statistics.quantiles(samples, n=10)
    out = {
        "requests": len(samples),
        "p50_ns": statistics.median(samples),
        "p90_ns": q[8],
        "ranges": RANGES,
        "sent_header_bytes_p50": statistics.median(sent_bytes),
        "composite_header_bytes": len(composite),
        "scoped": flow.stats()["scoped"],
    }
    classes = azure_core_headers()
    if classes is not None:  # the same on azure-core's and requests' own CaseInsensitiveDict
        flow, hooks, _ = learned_flow(RANGES)
        samples, _ = run(hooks, *classes)
        out["azure_core_p50_ns"] = statistics.median(samples)
        out["azure_core_p90_ns"] = statistics.quantiles(samples, n=10)[8]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
