// The account around the test server: its regions, failover, Entra ID
// sign-in and fake identity endpoints. server.js runs one front per region, each over its own store;
// this module decides, per request, what the real service would answer before the backend sees
// it, and answers the account metadata itself.
//
// Regions (`--regions "West US,East US"`, the first is the write region; default one region
// named "Local"):
//   * every region has its own loopback port; the global endpoint (the port printed as
//     "listening <port>") routes to the current write region, as the account's DNS name does;
//   * GET / answers the account: writableLocations (the write region), readableLocations (every
//     region, the write region first), enableMultipleWriteLocations (`--multi-write`);
//   * a write (any non-GET item or metadata request) to a read region answers 403 with
//     x-ms-substatus 3 (WriteForbidden);
//   * replication lag, stale reads, session tokens and 404/1002 are cluster.js's (per range).
// Entra ID (`--entra`, or POST /_shim/auth {"mode": "entra" | "key"}):
//   * a master-key signature answers 401 ("Local Authorization is disabled"); a bearer
//     (`type=aad&ver=1.0&sig=<token>`) must be a token issued here and not expired or revoked,
//     else 401; creating databases and containers answers 403 with x-ms-substatus 5300 (the data
//     plane refuses them for Entra ID tokens).
//   * fake identity endpoints issue tokens: App Service managed identity (GET /_fake/msi?
//     resource=…&api-version=2019-08-01, header X-IDENTITY-HEADER), VM instance metadata (GET
//     /_fake/imds/metadata/identity/oauth2/token?resource=…, header Metadata: true) and client
//     secret (POST /_fake/aad/<tenant>/oauth2/v2.0/token, form grant_type=client_credentials,
//     client_id, client_secret, scope). POST /_shim/identity {"identity_header", "client_id",
//     "client_secret", "expires_in"} sets what they require and how long tokens live;
//     POST /_shim/auth {"issue": seconds} issues a token directly, {"revoke_all": true} revokes
//     every token issued so far. GET /_shim/auth counts what was issued and refused.
"use strict";

const crypto = require("crypto");

function createAccount(options) {
  const names = options.regions && options.regions.length ? options.regions : ["Local"];
  const regions = names.map((name) => ({ name, port: 0, down: false }));
  const state = {
    write: 0,
    multiWrite: !!options.multiWrite,
    auth: options.entra ? "entra" : "key",
    tokens: new Map(), // token -> expiry (ms)
    identity: { identity_header: "fake-identity-header", client_id: "fake-client", client_secret: "fake-secret", expires_in: 3600 },
    authStats: { issued: 0, refused: 0, bearer_ok: 0, key_refused: 0, scopes: [] },
    advertise: {}, // region name -> endpoint advertised instead of its own
    malformed: 0, // the next N answers to GET / are not an account description
    malformedServed: 0,
  };

  function regionOf(port) {
    return regions.find((r) => r.port === port) || null;
  }

  // What GET / advertises for a region: its loopback port, unless POST /_shim/account
  // {"advertise": {"East US": "http://127.0.0.2:1234/"}} says otherwise (the client-side endpoint
  // rules are tested against descriptions that point elsewhere).
  function location(r) {
    const advertised = state.advertise[r.name];
    return { name: r.name, databaseAccountEndpoint: advertised || `http://127.0.0.1:${r.port}/` };
  }

  // A broken answer to GET / when one is due (POST /_shim/account {"malformed": N}): null when
  // the real description should be served.
  function malformedMetadata() {
    if (state.malformed <= 0) return null;
    state.malformed -= 1;
    state.malformedServed += 1;
    return '{"writableLocations": [{"name": "West US", "databaseAccountEndpoint"';
  }

  function metadata(hostHeader) {
    const writable = state.multiWrite ? regions : [regions[state.write]];
    const readable = [regions[state.write]].concat(regions.filter((_, i) => i !== state.write));
    return {
      _self: "",
      id: "localaccount",
      _rid: String(hostHeader || "127.0.0.1").split(":")[0],
      media: "//media/",
      addresses: "//addresses/",
      _dbs: "//dbs/",
      writableLocations: writable.map(location),
      readableLocations: readable.map(location),
      enableMultipleWriteLocations: state.multiWrite,
      userReplicationPolicy: { asyncReplication: false, minReplicaSetSize: 1, maxReplicasetSize: 4 },
      userConsistencyPolicy: { defaultConsistencyLevel: "Session" },
      systemReplicationPolicy: { minReplicaSetSize: 1, maxReplicasetSize: 4 },
      readPolicy: { primaryReadCoefficient: 1, secondaryReadCoefficient: 1 },
      queryEngineConfiguration: JSON.stringify({ maxSqlQueryInputLength: 262144, maxJoinsPerSqlQuery: 5, maxLogicalAndPerSqlQuery: 500,
        maxLogicalOrPerSqlQuery: 500, maxUdfRefPerSqlQuery: 10, maxInExpressionItemsCount: 16000, queryMaxInMemorySortDocumentCount: 500,
        maxQueryRequestTimeoutFraction: 0.9, sqlAllowNonFiniteNumbers: false, sqlAllowAggregateFunctions: true, sqlAllowSubQuery: true,
        sqlAllowScalarSubQuery: true, allowNewKeywords: true, sqlAllowLike: false, maxSpatialQueryCells: 12, spatialMaxGeometryPointCount: 256,
        sqlAllowTop: true, enableSpatialIndexing: true }),
    };
  }

  function issue(seconds) {
    const token = crypto.randomBytes(24).toString("base64url");
    state.tokens.set(token, Date.now() + seconds * 1000);
    state.authStats.issued += 1;
    return token;
  }

  // Checks the authorization of a data request: null when it may proceed, else [status, body,
  // headers] to answer.
  function authorize(req) {
    if (state.auth !== "entra") return null;
    let auth = req.headers.authorization || "";
    try { auth = decodeURIComponent(auth); } catch (e) { /* keep it */ }
    const fields = new Map(auth.split("&").map((kv) => { const i = kv.indexOf("="); return [kv.slice(0, i), kv.slice(i + 1)]; }));
    if (fields.get("type") !== "aad") {
      state.authStats.key_refused += 1;
      return [401, { code: "Unauthorized", message: "Local Authorization is disabled. Use an AAD token to authorize all requests." }];
    }
    const expiry = state.tokens.get(fields.get("sig") || "");
    if (!expiry || expiry <= Date.now()) {
      state.authStats.refused += 1;
      return [401, { code: "Unauthorized", message: "The Authorization token is invalid or has expired." }];
    }
    state.authStats.bearer_ok += 1;
    const path = req.url.split("?")[0];
    if (req.method === "POST" && (path === "/dbs" || /^\/dbs\/[^/]+\/colls$/.test(path))) {
      return [403, { code: "Forbidden", message: "Request blocked by Auth: the given request cannot be authorized by AAD token in data plane." }, { "x-ms-substatus": "5300" }];
    }
    return null;
  }

  function form(body) {
    const out = {};
    for (const [k, v] of new URLSearchParams(body.toString("utf8"))) out[k] = v;
    return out;
  }

  // The fake identity endpoints: [status, body] or null when the path is not one of them.
  function identity(req, body) {
    const url = new URL(req.url, "http://127.0.0.1");
    const id = state.identity;
    if (url.pathname === "/_fake/msi" && req.method === "GET") {
      if (req.headers["x-identity-header"] !== id.identity_header) return [401, { error: "invalid identity header" }];
      state.authStats.scopes.push(url.searchParams.get("resource"));
      const token = issue(id.expires_in);
      return [200, { access_token: token, expires_on: String(Math.floor(Date.now() / 1000) + id.expires_in), resource: url.searchParams.get("resource"), token_type: "Bearer", client_id: url.searchParams.get("client_id") || id.client_id }];
    }
    if (url.pathname === "/_fake/imds/metadata/identity/oauth2/token" && req.method === "GET") {
      if (req.headers.metadata !== "true") return [400, { error: "invalid_request", error_description: "Required metadata header not specified" }];
      state.authStats.scopes.push(url.searchParams.get("resource"));
      const token = issue(id.expires_in);
      return [200, { access_token: token, expires_in: String(id.expires_in), expires_on: String(Math.floor(Date.now() / 1000) + id.expires_in), resource: url.searchParams.get("resource"), token_type: "Bearer" }];
    }
    const aad = /^\/_fake\/aad\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (aad && req.method === "POST") {
      const f = form(body);
      if (f.grant_type !== "client_credentials" || f.client_id !== id.client_id || f.client_secret !== id.client_secret) {
        return [401, { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." }];
      }
      state.authStats.scopes.push(f.scope);
      return [200, { token_type: "Bearer", expires_in: id.expires_in, ext_expires_in: id.expires_in, access_token: issue(id.expires_in) }];
    }
    return null;
  }

  // POST/GET /_shim/auth and /_shim/identity: [status, body] or null.
  function control(req, body) {
    const path = req.url.split("?")[0];
    const input = () => JSON.parse(body.toString("utf8") || "{}");
    if (path === "/_shim/auth") {
      let issued;
      if (req.method === "POST") {
        const c = input();
        if (c.mode) state.auth = c.mode;
        if (c.revoke_all) state.tokens.clear();
        if (c.issue !== undefined) issued = issue(c.issue);
      }
      return [200, Object.assign({ mode: state.auth, token: issued }, state.authStats)];
    }
    if (path === "/_shim/account") {
      if (req.method === "POST") {
        const c = input();
        if (c.advertise !== undefined) state.advertise = c.advertise || {};
        if (c.malformed !== undefined) state.malformed = c.malformed | 0;
      }
      return [200, { advertise: state.advertise, malformed: state.malformed, malformed_served: state.malformedServed }];
    }
    if (path === "/_shim/identity" && req.method === "POST") {
      Object.assign(state.identity, input());
      return [200, { ok: true }];
    }
    return null;
  }

  // What the region answers for a write it may not accept (403/3), before anything else; null
  // to go on.
  function gate(region, req) {
    const isWrite = req.method !== "GET" && !req.headers["x-ms-documentdb-isquery"];
    if (isWrite && !state.multiWrite && regions.indexOf(region) !== state.write) {
      return [403, { code: "Forbidden", message: `The requested operation cannot be performed at this region (${region.name}).` }, { "x-ms-substatus": "3" }];
    }
    return null;
  }

  return { regions, state, regionOf, metadata, malformedMetadata, authorize, identity, control, gate, writeRegion: () => regions[state.write] };
}

module.exports = { createAccount };
