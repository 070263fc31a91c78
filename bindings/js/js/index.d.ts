// Type declarations of `cosmos-session-token` (written by hand for the package's entry points;
// the glue wasm-bindgen generates types its arguments loosely). Conventions:
// - the 64-bit integers of the token grammar (versions, global and local LSNs, lacks) are bigint;
//   counts, indices, byte offsets and region ids are number;
// - a missing result (no segment for a range, no pair overlapping a feed range) is undefined;
// - every refusal is a SessionTokenError (wrong argument types included).

/** A token argument: a parsed token, or header text (parsed strictly). */
export type TokenLike = SessionToken | string;

/** A feed range: "MIN-MAX" or feed-range JSON text, [min, max], @azure/cosmos's FeedRange
 * ({minInclusive, maxExclusive}) or {Range: {min, max, isMinInclusive?, isMaxInclusive?}}. */
export type FeedRangeLike =
  | string
  | readonly [string, string]
  | { readonly minInclusive: string; readonly maxExclusive: string }
  | { readonly Range: { readonly min: string; readonly max: string; readonly isMinInclusive?: boolean; readonly isMaxInclusive?: boolean } };

/** One component of a partition key: {} is "undefined" (no value at the path). */
export type PartitionKeyComponent = string | number | bigint | boolean | null | Record<string, never>;
/** A partition key value; an array is a hierarchical key (or its prefix). */
export type PartitionKeyLike = PartitionKeyComponent | readonly PartitionKeyComponent[];

/** A container's `partitionKey` property. */
export interface PartitionKeyDefinition {
  paths: string[];
  kind?: "Hash" | "MultiHash";
  version?: 1 | 2;
}

/** Headers as @azure/cosmos, fetch or Node give them: a plain object (names in any case), a
 * Map, a Headers, or [name, value] pairs. */
export type HeadersLike =
  | Record<string, unknown>
  | Map<string, unknown>
  | Iterable<readonly [string, unknown]>
  | { forEach(cb: (value: string, name: string) => void): void; [Symbol.iterator](): Iterator<[string, string]> };

export type Order = "less" | "equal" | "greater" | "concurrent";

export interface MergeOptions {
  /** "error" (default: a merge of the same version with other regions throws region_mismatch)
   * or "union". */
  regionMismatch?: "error" | "union";
  /** Default true. */
  falseProgressProtection?: boolean;
}

export interface Region {
  id: number;
  lsn: bigint;
}

export interface Segment {
  rangeId: string;
  format: "vector" | "simple";
  /** null for a simple value. */
  version: bigint | null;
  globalLsn: bigint;
  /** In token order; an lsn of -1 is no progress. */
  regions: Region[];
  /** The segment as the header writes it ("0:1#100#1=20"). */
  text: string;
}

export interface ParseWarning {
  code: string;
  segment: number | null;
  offset: number;
  text: string;
  message: string;
}

/** One piece of progress a token lacks (see compareExplained). */
export type Lack =
  | { kind: "range"; rangeId: string; need: string; behind: null; text: string }
  | { kind: "version"; rangeId: string; have: bigint; need: bigint; behind: null; text: string }
  | { kind: "global_lsn"; rangeId: string; have: bigint; need: bigint; behind: bigint; text: string }
  | { kind: "region"; rangeId: string; region: number; have: bigint | null; need: bigint; behind: bigint | null; text: string };

export interface Comparison {
  order: Order;
  /** What this token lacks of the other. */
  aLacks: Lack[];
  /** What the other lacks of this one. */
  bLacks: Lack[];
}

/** An Azure Cosmos DB session token (the x-ms-session-token header value). Immutable. */
export class SessionToken {
  private constructor();
  /** Parses a header value, strictly unless options.lenient. */
  static parse(text: string, options?: { lenient?: boolean }): SessionToken;
  /** Parses leniently, with one warning per normalisation. */
  static parseLenient(text: string): { token: SessionToken; warnings: ParseWarning[] };
  toString(): string;
  toJSON(): string;
  merge(other: TokenLike, options?: MergeOptions): SessionToken;
  compare(other: TokenLike): Order;
  compareExplained(other: TokenLike): Comparison;
  isAtLeastAsNewAs(other: TokenLike): boolean;
  /** Semantic equality (segment and region order ignored; 5 equals -2#5). */
  equals(other: TokenLike): boolean;
  /** The token to send for one range (its segment, else its present parents' merge relabelled). */
  scope(rangeId: string, parents?: readonly string[]): SessionToken | undefined;
  toSimple(): SessionToken;
  toVector(): SessionToken;
  readonly segments: Segment[];
  get(rangeId: string): Segment | undefined;
  has(rangeId: string): boolean;
  /** The number of segments. */
  readonly length: number;
  /** Bytes (UTF-8) of the header value. */
  readonly encodedLength: number;
  /** Frees the WebAssembly memory now (otherwise the garbage collector does). */
  free(): void;
}

export function parse(text: string, options?: { lenient?: boolean }): SessionToken;
/** Merges any number of tokens in one pass. */
export function merge(tokens: readonly TokenLike[], options?: MergeOptions): SessionToken;
export function convert(token: TokenLike, to: "simple" | "vector"): string;

/** The latest token covering target from [feedRange, token] pairs; undefined when none overlaps. */
export function latestForFeedRange(pairs: ReadonlyArray<readonly [FeedRangeLike, TokenLike]>, target: FeedRangeLike): SessionToken | undefined;
export function explainLatestForFeedRange(
  pairs: ReadonlyArray<readonly [FeedRangeLike, TokenLike]>,
  target: FeedRangeLike,
): { token: SessionToken; lines: string[] } | undefined;

export interface PartitionKeyOptions {
  kind?: "Hash" | "MultiHash";
  version?: 1 | 2;
  /** MultiHash paths (default: the number of components). */
  levels?: number;
}
/** Upper-case hex, as pkranges spell their bounds. */
export function effectivePartitionKey(value: PartitionKeyLike, options?: PartitionKeyOptions): string;
export function feedRangeFromPartitionKey(
  value: PartitionKeyLike,
  options?: PartitionKeyOptions,
): { Range: { min: string; max: string; isMinInclusive: boolean; isMaxInclusive: boolean } };

export interface PartitionKeyRange {
  id: string;
  minInclusive: string;
  maxExclusive: string;
  parents: string[];
}

/** A container's partition-key ranges: the body of GET …/pkranges (or its ranges, or JSON text). */
export class RoutingMap {
  constructor(ranges: string | { PartitionKeyRanges: readonly object[] } | readonly object[]);
  readonly size: number;
  ranges(): PartitionKeyRange[];
  rangeFor(epk: string): PartitionKeyRange;
  overlapping(feedRange: FeedRangeLike): PartitionKeyRange[];
  free(): void;
}

export function tokenForPartitionKey(
  token: TokenLike,
  value: PartitionKeyLike,
  routingMap: RoutingMap,
  definition?: PartitionKeyDefinition | string,
): SessionToken | undefined;
export function tokenForFeedRange(token: TokenLike, feedRange: FeedRangeLike, routingMap: RoutingMap): SessionToken | undefined;
/** Throws token_too_large when the token is longer than maxBytes. */
export function checkHeaderBudget(token: TokenLike, maxBytes: number): void;

/** Per-partition session tokens of many collections. */
export class SessionContainer {
  constructor();
  static restore(snapshot: string): SessionContainer;
  capture(
    collectionName: string,
    collectionRid: string,
    token: string | null | undefined,
    status: number,
    subStatus?: number,
    options?: { resourceType?: string },
  ): boolean;
  forgetRange(collectionName: string, rangeId: string): boolean;
  resolve(collectionName: string, rangeId: string, parents?: readonly string[]): SessionToken | undefined;
  resolveForPartitionKey(
    collectionName: string,
    value: PartitionKeyLike,
    routingMap: RoutingMap,
    definition?: PartitionKeyDefinition | string,
  ): SessionToken | undefined;
  resolveAll(collectionName: string): SessionToken | undefined;
  clear(collectionName: string): boolean;
  snapshot(): string;
  free(): void;
}

export interface SealOptions {
  /** Default 4000 (seal, unseal, FlowCookies) or 60 KiB (sealFlow, unsealFlow). */
  maxBytes?: number;
}
export function seal(token: TokenLike, key: Uint8Array, context?: string, options?: SealOptions): string;
export function unseal(sealed: string, keys: Uint8Array | readonly Uint8Array[], context?: string, options?: SealOptions): SessionToken;

export interface FlowStats {
  requests: number;
  scoped: number;
  composite: number;
  left: number;
  stepped_aside: number;
  captured: number;
  definitions_learned: number;
  maps_learned: number;
  maps_forgotten: number;
}

/** Read-your-writes carried by an SDK's HTTP traffic (see docs/javascript.md). */
export class SessionFlow {
  constructor();
  static restore(snapshot: string): SessionFlow;
  mergeSnapshot(snapshot: string): void;
  /** Versioned JSON text; with maxBytes, within it (snapshot_too_large past it). */
  snapshot(options?: { maxBytes?: number }): string;
  /** An empty flow sharing this one's routing knowledge and counters. */
  forUser(): SessionFlow;
  /** The token to send, or undefined: leave the SDK's header as it is. */
  beforeRequest(method: string, url: string, headers?: HeadersLike): string | undefined;
  wantsBody(method: string, url: string): boolean;
  afterResponse(
    method: string,
    url: string,
    status: number,
    headers?: HeadersLike,
    body?: string | Uint8Array | ArrayBuffer | object | null,
  ): void;
  stats(): FlowStats;
  /** `cosmosPlugins({...options, flow: this})`: every request of the client through this flow. */
  plugins(options?: Omit<CosmosPluginOptions, "flow">): CosmosPlugins;
  free(): void;
}

/**
 * One @azure/cosmos request plugin (`PluginConfig` with `on: PluginOn.request`, marked @hidden
 * by the SDK; tested with @azure/cosmos 4.10.1). `on` is typed loosely: the SDK's `PluginOn` is
 * a string enum ("request" at run time), which a string literal type does not satisfy.
 */
export interface CosmosRequestPlugin {
  on: any;
  plugin: (context: any, diagnosticNode: any, next: (context: any) => Promise<any>) => Promise<any>;
}

export interface CosmosPluginOptions {
  /** The flow of every request; without it, `currentFlow()` at the time (none: no flow). */
  flow?: SessionFlow;
  /** Waits (ms) before re-reading where a read answered 404/1002 when no write region is known
   * or it answered 1002 too; default [20, 60, 180, 540]. */
  backoffMs?: readonly number[];
  /** Have the SDK read a container's definition and ranges when the client first touches its
   * items (default true), so point operations are scoped to their partition's range. */
  prime?: boolean;
}

/** What a plugin did (numbers since it was made). */
export interface CosmosPluginStats {
  requests: number;
  primed: number;
  prime_failed: number;
  /** Reads answered 404/1002 (read session not available) by a lagging region. */
  read_session_unavailable: number;
  retried_at_write_region: number;
  retried_after_backoff: number;
  /** 1002s handed to the SDK after every retry answered 1002 (never turned into "not found"). */
  gave_up: number;
}

/** `plugins` for `new CosmosClient({...})`, with the plugin's counters. */
export type CosmosPlugins = CosmosRequestPlugin[] & { stats(): CosmosPluginStats };

/** The request plugins for @azure/cosmos: capture, learn, scope, and retry a 404/1002 elsewhere. */
export function cosmosPlugins(options?: CosmosPluginOptions): CosmosPlugins;

/** The flow made current by `runWithFlow` or the cookie middleware (AsyncLocalStorage). */
export function currentFlow(): SessionFlow | undefined;
/** Runs `fn` with `flow` current for it and everything it starts. */
export function runWithFlow<A extends unknown[], R>(flow: SessionFlow, fn: (...args: A) => R, ...args: A): R;

/** The request and response a middleware sees: node:http's, Express's, Connect's. */
export interface FlowCookieRequest {
  headers: { cookie?: string | string[] | undefined; [name: string]: unknown };
  cookies?: Record<string, string>;
  cosmosFlow?: SessionFlow;
}
export interface FlowCookieResponse {
  writeHead(...args: any[]): unknown;
  getHeader(name: string): number | string | readonly string[] | undefined;
  setHeader(name: string, value: number | string | readonly string[]): unknown;
  readonly headersSent: boolean;
}

export interface FlowCookieMiddlewareOptions<Req extends FlowCookieRequest = FlowCookieRequest> {
  /** Seal keys (16 bytes or more; the first seals, all open). Or `cookies`. */
  keys?: Uint8Array | readonly Uint8Array[];
  /** The node's FlowCookies (one per node). */
  cookies?: FlowCookies;
  /** The user the cookie is bound to (a session id, a signed-in user's id; "" for none). */
  context: (req: Req) => string | undefined | null;
  /** Default true; false for plain-HTTP development only. */
  secure?: boolean;
  maxAge?: number;
  /** The cookie's budget (default 4000). */
  maxBytes?: number;
  /** Why a cookie that came was not accepted (never the cookie). */
  onRefused?: (verdict: CookieVerdict, req: Req) => void;
}

export interface FlowCookieMiddleware<Req extends FlowCookieRequest = FlowCookieRequest> {
  (req: Req, res: FlowCookieResponse, next: (err?: unknown) => void): void;
  readonly cookies: FlowCookies;
}

/** Express-style `(req, res, next)`: the user's flow from the `cosmos_flow` cookie, current while
 * the request runs, sealed back (Set-Cookie) before the headers go out when it moved. */
export function flowCookieMiddleware<Req extends FlowCookieRequest = FlowCookieRequest>(
  options: FlowCookieMiddlewareOptions<Req>,
): FlowCookieMiddleware<Req>;

export type CookieVerdict =
  | "accepted" | "no_session" | "missing" | "malformed" | "too_large"
  | "unknown_key" | "foreign_context" | "forged" | "unreadable" | "unverified";

export interface FlowCookieStats {
  accepted: number;
  no_session: number;
  missing: number;
  malformed: number;
  too_large: number;
  unknown_key: number;
  foreign_context: number;
  forged: number;
  unreadable: number;
  sealed: number;
  over_budget: number;
}

/** One user's flow for one request, opened from the user's cookie. */
export class CookieFlow {
  private constructor();
  readonly flow: SessionFlow;
  readonly verdict: CookieVerdict;
  readonly refused: boolean;
  readonly changed: boolean;
  free(): void;
}

/** A web node's flow cookies (each user's progress sealed in a cookie bound to the user). */
export class FlowCookies {
  constructor(keys: Uint8Array | readonly Uint8Array[], options?: SealOptions);
  open(context: string, cookie?: string | null): CookieFlow;
  seal(user: CookieFlow, context?: string): { outcome: "sealed"; value: string } | { outcome: "unchanged" | "over_budget" };
  node(): SessionFlow;
  stats(): FlowCookieStats;
  free(): void;
}

export function sealFlow(flow: SessionFlow, key: Uint8Array, context?: string, options?: SealOptions): string;
export function unsealFlow(sealed: string, keys: Uint8Array | readonly Uint8Array[], context?: string, options?: SealOptions): SessionFlow;

export function deriveCookieKeys(secrets: Uint8Array | readonly Uint8Array[]): Uint8Array[];
export function tokenCookieContext(framework: string, app: string, sessionId: string): string;
export function tokenCookieHeader(name: string, value: string, options?: { maxAge?: number | null; secure?: boolean }): string;

export type ErrorCategory =
  | "malformed" | "invalid_utf8" | "incompatible" | "limit_exceeded" | "rejected"
  | "invalid_argument" | "not_found" | "internal" | "lock_lost" | "store";

/** Every refusal of the library. */
export class SessionTokenError extends Error {
  /** The error table's stable snake_case code (docs/errors.md), e.g. "not_a_number". */
  readonly code: string;
  readonly category: ErrorCategory;
  /** Where the core locates the error: 0-based segment (null: the whole input), UTF-8 byte offset. */
  readonly position?: { segment: number | null; offset: number };
  readonly rangeId?: string;
}

export interface Constants {
  HEADER: "x-ms-session-token";
  FLOW_COOKIE_NAME: string;
  TOKEN_COOKIE_NAME: string;
  DEFAULT_COOKIE_NAME: string;
  DEFAULT_SEAL_BUDGET: number;
  MESSAGE_FLOW_BUDGET: number;
  COMPOSITE_BUDGET: number;
  MAX_SCOPE_PARENTS: number;
  MAX_SEAL_KEYS: number;
  READ_SESSION_NOT_AVAILABLE: number;
  /** [code, category] pairs of the error table. */
  ERROR_CODES: Array<[string, ErrorCategory]>;
  VERSION: string;
}
export function constants(): Constants;

export const HEADER: "x-ms-session-token";
export const FLOW_COOKIE_NAME: string;
export const TOKEN_COOKIE_NAME: string;
export const DEFAULT_COOKIE_NAME: string;
export const DEFAULT_SEAL_BUDGET: number;
export const MESSAGE_FLOW_BUDGET: number;
export const COMPOSITE_BUDGET: number;
export const MAX_SCOPE_PARENTS: number;
export const MAX_SEAL_KEYS: number;
export const READ_SESSION_NOT_AVAILABLE: number;
export const ERROR_CODES: Array<[string, ErrorCategory]>;
export const VERSION: string;
