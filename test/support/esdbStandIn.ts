// An in-process stand-in for the EventStoreDB gRPC API, for tests of the esdb adapter.
//
// It is a real gRPC server (@grpc/grpc-js) on a real loopback port, built on the service
// definitions and protobuf message classes that @eventstore/db-client itself ships
// (generated/*_grpc_pb.js, generated/*_pb.js), so the unmodified client talks to it
// exactly as it talks to a server. It implements what the adapter uses, and only that:
//
//   ServerFeatures.GetSupportedMethods  (the client asks on its first append)
//   Streams.BatchAppend                 (what the client uses against a 21.10+ server)
//   Streams.Append                      (what it uses when ServerFeatures is missing)
//   Streams.Read                        stream reads, $all reads, catch-up subscriptions to
//                                       $all and to a stream
//
// Everything else the client package knows about (Delete, Tombstone, Gossip, Operations,
// Users, Projections, Persistent subscriptions, Monitoring) answers UNIMPLEMENTED and is
// recorded in `unimplementedCalls`, so a test can assert that nothing unexpected was called.
//
// Sources for the behaviour (cited next to each piece below). No server could run where
// this was written: what is marked [src-…] was read in KurrentDB's source at tag v25.1.4
// (github.com/kurrent-io/KurrentDB), the rest in the client and the documentation.
//   [proto]  the message shapes: @eventstore/db-client generated/streams_pb.d.ts,
//            shared_pb.d.ts, serverfeatures_pb.d.ts, status_pb.d.ts
//   [client] what the client does with each response: @eventstore/db-client
//            dist/streams/appendToStream/{append,batchAppend,unpackError}.js,
//            dist/streams/utils/{ReadStream,Subscription}.js, dist/utils/convertGrpcEvent.js,
//            dist/utils/CommandError.js, dist/Client/ServerFeatures.js
//   [docs-append]  https://developers.eventstore.com/clients/grpc/appending-events.html
//   [docs-read]    https://developers.eventstore.com/clients/grpc/reading-events.html
//   [docs-sub]     https://developers.eventstore.com/clients/grpc/subscriptions.html
//   [docs-streams] https://developers.eventstore.com/server/v23.10/streams.html
//   [src-positions]   Services/RequestManager/Managers/WriteEvents.cs and RequestManagerBase.cs:
//                     a write completes with one log position as both commit and prepare
//                     (an idempotent one with the original write's, ReturnCommitAt); events
//                     are read back with their own record's position as commit and prepare
//   [src-idempotency] Services/Storage/ReaderIndex/IndexWriter.cs CheckCommit, BoundedCache.cs,
//                     Settings/ESConsts.cs CommittedEventsMemCacheLimit (8 MiB),
//                     Services/Storage/StorageWriterService.cs (AlreadyCommitted with the
//                     original write's log position; CorruptedIdempotency answered as a
//                     consistency check failure)
//   [src-status]      Services/Transport/Grpc/Status.cs (WrongExpectedVersion: ALREADY_EXISTS;
//                     MaximumAppendEventSizeExceeded), Protos/Grpc/shared.proto
//   [src-limits]      Configuration/ClusterVNodeOptions.cs (MaxAppendSize = chunk size, 256 MiB;
//                     MaxAppendEventSize = max log record size, 16 MiB),
//                     ClusterVNodeOptionsValidator.cs (event size <= append size),
//                     Data/Event.cs SizeOnDisk, Grpc/Streams.Append.cs, Streams.BatchAppend.cs,
//                     RpcExceptions.cs
//   [src-stream-sub]  Services/Transport/Enumerators/Enumerator.StreamSubscription.cs
//
// Positions: an event's $all position is its record's byte offset in the log (commit =
// prepare), so positions have gaps; an append answers with its last event's. [src-positions]
//
// Idempotency [src-idempotency]: an append whose events are all already in the stream
// where the request puts them answers as the original write did (its last event's revision
// and position) and writes nothing; part of them: WrongExpectedVersion. With an exact
// revision or no_stream the stream itself is read, so a retry is recognised forever. With
// any / stream_exists only a bounded cache of recent event ids (8 MiB by default, oldest
// evicted first) is consulted: an older duplicate is written again.
//
// What the client calls: logged by running it against this server with every other service
// registered as a recording stub: ServerFeatures.GetSupportedMethods before its first append
// on a channel (again after a reconnect), then BatchAppend or Append, and Read. No Gossip for
// a single-host esdb:// connection string, nothing at all on connect.
//
// Where the sources above do not say, this is what the stand-in assumes:
// - Reading $all backwards from a position returns the events before it (the log is read
//   backwards from that offset); the adapter adds the event at the position itself.
// - Stream reads carry the events' commit/prepare positions, as $all reads do.
//
// Test knobs: stop()/restart() (same port, same data), setResponseDelay() (an overloaded
// server), failNextCall() (a gRPC error for the next call of a method), appendSystemEvent(),
// the limits and the id cache's size as options.
//
// Not modelled: deletes/tombstones and $tb, stream metadata enforcement ($maxAge, $maxCount,
// ACLs), link resolution (resolve_links is ignored: links come back as the `$>` events they
// are), fell-behind, authentication, TLS, clustering. agentlog uses none of them.
import { createRequire } from "node:module"
import { randomUUID } from "node:crypto"
import { setImmediate as yieldToIo } from "node:timers/promises"
import * as grpc from "@grpc/grpc-js"

type StreamsPb = typeof import("@eventstore/db-client/generated/streams_pb.js")
type StreamsGrpc = typeof import("@eventstore/db-client/generated/streams_grpc_pb.js")
type SharedPb = typeof import("@eventstore/db-client/generated/shared_pb.js")
type StatusPb = typeof import("@eventstore/db-client/generated/status_pb.js")
type FeaturesPb = typeof import("@eventstore/db-client/generated/serverfeatures_pb.js")
type FeaturesGrpc = typeof import("@eventstore/db-client/generated/serverfeatures_grpc_pb.js")
type AnyPb = typeof import("google-protobuf/google/protobuf/any_pb.js")
type EmptyPb = typeof import("google-protobuf/google/protobuf/empty_pb.js")

// The generated modules are CommonJS that Node's ESM loader cannot see named exports in;
// require() them so this file shares the very module instances the client uses.
const require = createRequire(import.meta.url)
const streamsPb: StreamsPb = require("@eventstore/db-client/generated/streams_pb.js")
const streamsGrpc: StreamsGrpc = require("@eventstore/db-client/generated/streams_grpc_pb.js")
const sharedPb: SharedPb = require("@eventstore/db-client/generated/shared_pb.js")
const statusPb: StatusPb = require("@eventstore/db-client/generated/status_pb.js")
const featuresPb: FeaturesPb = require("@eventstore/db-client/generated/serverfeatures_pb.js")
const featuresGrpc: FeaturesGrpc = require("@eventstore/db-client/generated/serverfeatures_grpc_pb.js")
const anyPb: AnyPb = require("google-protobuf/google/protobuf/any_pb.js")
const emptyPb: EmptyPb = require("google-protobuf/google/protobuf/empty_pb.js")
const { BinaryWriter } = require("google-protobuf") as {
  BinaryWriter: new () => {
    writeString(field: number, value: string): void
    writeUint32(field: number, value: number): void
    getResultBuffer(): Uint8Array
  }
}

// Services the client package can call that the stand-in does not implement.
const stubServiceModules = [
  "gossip_grpc_pb.js",
  "operations_grpc_pb.js",
  "users_grpc_pb.js",
  "projections_grpc_pb.js",
  "persistent_grpc_pb.js",
  "monitoring_grpc_pb.js"
]

type ReadReq = InstanceType<StreamsPb["ReadReq"]>
type ReadResp = InstanceType<StreamsPb["ReadResp"]>
type AppendReq = InstanceType<StreamsPb["AppendReq"]>
type AppendResp = InstanceType<StreamsPb["AppendResp"]>
type BatchAppendReq = InstanceType<StreamsPb["BatchAppendReq"]>
type BatchAppendResp = InstanceType<StreamsPb["BatchAppendResp"]>
type FilterOptions = InstanceType<StreamsPb["ReadReq"]["Options"]["FilterOptions"]>
type GrpcUUID = InstanceType<SharedPb["UUID"]>

export interface EsdbStandInOptions {
  /** Port to listen on (127.0.0.1). 0 (the default) picks a free one. */
  readonly port?: number
  /**
   * true (default): behave like a 21.10+ server, which lists BatchAppend in ServerFeatures,
   * so the client appends through BatchAppend (the production path).
   * false: behave like a server without the ServerFeatures service (UNIMPLEMENTED), so the
   * client falls back to the unary Append. [client: appendToStream/index.js, ServerFeatures.js]
   */
  readonly batchAppend?: boolean
  /** Write `$>` links to `$ce-<category>` after each user append, as the $by_category
   *  system projection does. Default true (exercises the adapter's skipping of links). */
  readonly categoryLinks?: boolean
  /**
   * MaxAppendSize: largest total size of one append, each event counted as the server does
   * (data + metadata bytes + 2 x the type's length). Default 256 MiB (25.1). [src-limits]
   */
  readonly maxAppendSize?: number
  /** MaxAppendEventSize: largest size of one event, counted the same way. Default 16 MiB; at most maxAppendSize. [src-limits] */
  readonly maxAppendEventSize?: number
  /**
   * Bytes of the recent-event-id cache through which an append with expected revision
   * any / stream_exists is recognised as a retry. Default 8 MiB, as the server's. [src-idempotency]
   */
  readonly idCacheBytes?: number
}

export interface StandInEvent {
  readonly stream: string
  readonly revision: bigint
  readonly id: string
  readonly type: string
  readonly contentType: string
  readonly data: Uint8Array
  readonly customMetadata: Uint8Array
  /** .NET ticks (100 ns) since the Unix epoch, as the server sends `created`. [client: convertGrpcEvent.js] */
  readonly created: bigint
  readonly commit: bigint
  readonly prepare: bigint
}

export interface EsdbStandIn {
  /** esdb://127.0.0.1:<port>?tls=false */
  readonly connectionString: string
  readonly port: number
  /** Force-shuts the server: every open call and connection is dropped. Data is kept. */
  stop(): Promise<void>
  /** stop() if running, then listen again on the same port with the same data. */
  restart(): Promise<void>
  /** Appends a system event (type starting with `$`) to a system stream, e.g. stats. */
  appendSystemEvent(stream?: string, type?: string): void
  /** Every event in $all order, system events included. */
  allEvents(): ReadonlyArray<StandInEvent>
  /**
   * Delays every answer (ServerFeatures, Append, BatchAppend, the start of a Read) by `ms`,
   * like an overloaded server. A BatchAppend whose deadline passes meanwhile is refused
   * with Timeout and not written, as the server does. 0 turns it off.
   */
  setResponseDelay(ms: number): void
  /** The next call of `path` (e.g. "/event_store.client.streams.Streams/Read") fails with `code`. */
  failNextCall(path: string, code: grpc.status, details?: string): void
  /** gRPC method paths called that the stand-in does not implement. */
  readonly unimplementedCalls: ReadonlyArray<string>
  /** How often each implemented gRPC method was called, by path. */
  readonly calls: Readonly<Record<string, number>>
  /**
   * Appends by the expected revision they were sent with (any, no_stream, stream_exists,
   * revision): a retry with any is only recognised while its ids are in the recent-id
   * cache, so a client that retries must not send any.
   */
  readonly appendsByExpected: Readonly<Record<string, number>>
}

// ---------------------------------------------------------------------------------------
// The store: an in-memory transaction log.
// ---------------------------------------------------------------------------------------

type Expected =
  | { readonly kind: "any" }
  | { readonly kind: "no_stream" }
  | { readonly kind: "stream_exists" }
  | { readonly kind: "revision"; readonly revision: bigint }

interface Proposed {
  readonly id: string
  readonly type: string
  readonly contentType: string
  readonly data: Uint8Array
  readonly customMetadata: Uint8Array
}

type AppendOutcome =
  | {
    readonly _tag: "Success"
    /** null: the stream still has no events (an empty append to a missing stream). */
    readonly currentRevision: bigint | null
    /** null: no position to report (an idempotent or empty append). */
    readonly position: { readonly commit: bigint; readonly prepare: bigint } | null
  }
  | { readonly _tag: "WrongExpectedVersion"; readonly current: bigint | null }
  | { readonly _tag: "MaxAppendSizeExceeded"; readonly max: number }
  | { readonly _tag: "MaxAppendEventSizeExceeded"; readonly id: string; readonly size: number; readonly max: number }
  | { readonly _tag: "InvalidArgument"; readonly message: string }

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const utf8 = (s: string) => Buffer.byteLength(s, "utf8")
const ticksNow = () => BigInt(Date.now()) * 10_000n

/** What the server counts for its limits: `Event.SizeOnDisk` (type length in UTF-16 units, x2). [src-limits] */
const sizeOnDisk = (p: Proposed) => p.data.length + p.customMetadata.length + p.type.length * 2

/**
 * The server's committed-events cache (IndexWriter._committedEvents, a BoundedCache): every
 * committed event's id with its stream and number, oldest evicted first once the entries'
 * estimated size passes the limit. Only appends with expected revision any / stream_exists
 * consult it. [src-idempotency]
 */
class RecentIds {
  private readonly entries = new Map<string, { readonly stream: string; readonly revision: bigint }>()
  private readonly queue: Array<{ readonly id: string; readonly size: number }> = []
  private head = 0
  private bytes = 0
  readonly maxBytes: number
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes
  }
  get(id: string) {
    return this.entries.get(id)
  }
  put(id: string, stream: string, revision: bigint) {
    // 16 (Guid) + 4 + a pointer + the stream name as a .NET string (MemSizer.SizeOf).
    const size = 16 + 4 + 8 + Math.ceil((20 + stream.length * 2 + 1) / 8) * 8
    while (this.bytes > this.maxBytes && this.head < this.queue.length) {
      const old = this.queue[this.head++]!
      this.bytes -= old.size
      this.entries.delete(old.id)
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) this.queue.splice(0, this.head), (this.head = 0)
    this.bytes += size
    this.queue.push({ id, size })
    if (!this.entries.has(id)) this.entries.set(id, { stream, revision })
  }
}

class TransactionLog {
  readonly log: Array<StandInEvent> = []
  readonly streams = new Map<string, Array<StandInEvent>>()
  // The first record of a fresh database is not at offset 0 (chunk header, epoch records).
  private nextOffset = 1_536n
  private changed = Promise.withResolvers<void>()
  readonly maxAppendSize: number
  readonly maxAppendEventSize: number
  readonly categoryLinks: boolean
  readonly recent: RecentIds

  constructor(maxAppendSize: number, maxAppendEventSize: number, categoryLinks: boolean, idCacheBytes: number) {
    // The server refuses to start with these options. [src-limits: ClusterVNodeOptionsValidator]
    if (maxAppendEventSize > maxAppendSize) throw new Error("MaxAppendEventSize must be less than or equal to MaxAppendSize.")
    this.maxAppendSize = maxAppendSize
    this.maxAppendEventSize = maxAppendEventSize
    this.categoryLinks = categoryLinks
    this.recent = new RecentIds(idCacheBytes)
  }

  /** Resolves after the next write. */
  nextChange(): Promise<void> {
    return this.changed.promise
  }

  private positionOf(e: StandInEvent) {
    return { commit: e.commit, prepare: e.prepare }
  }

  append(stream: string, expected: Expected, proposed: ReadonlyArray<Proposed>): AppendOutcome {
    for (const p of proposed) {
      if (!uuidPattern.test(p.id)) return { _tag: "InvalidArgument", message: `Invalid event id: ${p.id}` }
      // The server requires both. [client: append.js sets "type" and "content-type"]
      if (p.type === "") return { _tag: "InvalidArgument", message: "Required metadata property missing: type" }
      if (p.contentType === "") {
        return { _tag: "InvalidArgument", message: "Required metadata property missing: content-type" }
      }
    }
    // Per event first, then the running total, as the server adds the events. [src-limits]
    let size = 0
    for (const p of proposed) {
      const eventSize = sizeOnDisk(p)
      if (eventSize > this.maxAppendEventSize) {
        return { _tag: "MaxAppendEventSizeExceeded", id: p.id.toLowerCase(), size: eventSize, max: this.maxAppendEventSize }
      }
      size += eventSize
      if (size > this.maxAppendSize) return { _tag: "MaxAppendSizeExceeded", max: this.maxAppendSize }
    }

    const events = this.streams.get(stream) ?? []
    const current = events.length === 0 ? null : BigInt(events.length - 1)
    const currentNumber = current ?? -1n
    const ids = proposed.map((p) => p.id.toLowerCase())

    // Idempotency, as IndexWriter.CheckCommit decides it. [src-idempotency]
    // A write that is all already there answers as the original write did: its last
    // event's revision and position. Part there, part not: WrongExpectedVersion (the
    // server's CorruptedIdempotency is answered as a consistency check failure).
    const idempotent = (last: StandInEvent): AppendOutcome => ({
      _tag: "Success",
      currentRevision: last.revision,
      position: this.positionOf(last)
    })
    if (proposed.length > 0 && (expected.kind === "any" || expected.kind === "stream_exists")) {
      if (expected.kind === "stream_exists" && current === null) return { _tag: "WrongExpectedVersion", current }
      // Weak check: the events are looked up in the recent-id cache only, so an old
      // duplicate sent with any / stream_exists is written again.
      const found = ids.map((id) => {
        const hit = this.recent.get(id)
        return hit !== undefined && hit.stream === stream ? hit : undefined
      })
      if (found[0] !== undefined) {
        if (found.some((f) => f === undefined)) return { _tag: "WrongExpectedVersion", current }
        return idempotent(events[Number(found[found.length - 1]!.revision)]!)
      }
    } else if (proposed.length > 0 && (expected.kind === "revision" || expected.kind === "no_stream")) {
      // Strong check: the events right after the expected revision, read from the stream.
      const expectedNumber = expected.kind === "revision" ? expected.revision : -1n
      if (expectedNumber < currentNumber) {
        for (let i = 0; i < ids.length; i++) {
          const at = events[Number(expectedNumber) + 1 + i]
          if (at === undefined || at.id !== ids[i]) return { _tag: "WrongExpectedVersion", current }
        }
        return idempotent(events[Number(expectedNumber) + ids.length]!)
      }
    }

    // Expected revision [docs-append "Handling concurrency"].
    const ok = expected.kind === "any"
      ? true
      : expected.kind === "no_stream"
      ? current === null
      : expected.kind === "stream_exists"
      ? current !== null
      : current === expected.revision
    if (!ok) return { _tag: "WrongExpectedVersion", current }
    if (proposed.length === 0) return { _tag: "Success", currentRevision: current, position: null }

    const written = this.write(stream, proposed)
    const last = written[written.length - 1]!
    if (this.categoryLinks && !stream.startsWith("$") && stream.includes("-")) {
      // What the $by_category system projection does, some time after the write. [docs-streams]
      const category = stream.slice(0, stream.indexOf("-"))
      this.write(
        `$ce-${category}`,
        written.map((e) => ({
          id: randomUUID(),
          type: "$>",
          contentType: "application/octet-stream",
          data: Buffer.from(`${e.revision}@${e.stream}`, "utf8"),
          customMetadata: Buffer.from(JSON.stringify({ $o: e.stream, $c: String(e.commit), $p: String(e.prepare) }))
        }))
      )
    }
    return { _tag: "Success", currentRevision: last.revision, position: { commit: last.commit, prepare: last.prepare } }
  }

  /**
   * Writes the events, each as its own log record: commit = prepare = the record's offset
   * (25.1 writes no separate commit record for an append). [src-positions]
   */
  write(stream: string, proposed: ReadonlyArray<Proposed>): Array<StandInEvent> {
    const events = this.streams.get(stream) ?? []
    this.streams.set(stream, events)
    const created = ticksNow()
    const written = proposed.map((p) => {
      const e: StandInEvent = {
        stream,
        revision: BigInt(events.length),
        id: p.id.toLowerCase(),
        type: p.type,
        contentType: p.contentType,
        data: p.data,
        customMetadata: p.customMetadata,
        created,
        commit: this.nextOffset,
        prepare: this.nextOffset
      }
      events.push(e)
      this.log.push(e)
      this.recent.put(e.id, stream, e.revision)
      // A prepare record: fixed header, stream name, type, data, metadata; 8-byte aligned.
      const recordSize = 88 + utf8(stream) + utf8(p.type) + p.data.length + p.customMetadata.length
      this.nextOffset += BigInt(Math.ceil(recordSize / 8) * 8)
      return e
    })
    const changed = this.changed
    this.changed = Promise.withResolvers<void>()
    changed.resolve()
    return written
  }
}

const comparePos = (a: { commit: bigint; prepare: bigint }, b: { commit: bigint; prepare: bigint }) =>
  a.commit < b.commit ? -1 : a.commit > b.commit ? 1 : a.prepare < b.prepare ? -1 : a.prepare > b.prepare ? 1 : 0

// ---------------------------------------------------------------------------------------
// Protobuf conversions [proto]
// ---------------------------------------------------------------------------------------

const parseUuid = (uuid: GrpcUUID | undefined): string => {
  if (!uuid) return ""
  if (uuid.hasStructured()) {
    const s = uuid.getStructured()!
    const hi = BigInt.asUintN(64, BigInt(s.getMostSignificantBits()))
    const lo = BigInt.asUintN(64, BigInt(s.getLeastSignificantBits()))
    const hex = hi.toString(16).padStart(16, "0") + lo.toString(16).padStart(16, "0")
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }
  return uuid.getString()
}

const makeUuid = (id: string, structured: boolean): GrpcUUID => {
  const uuid = new sharedPb.UUID()
  if (!structured) {
    uuid.setString(id)
    return uuid
  }
  const hex = id.replace(/-/g, "")
  const s = new sharedPb.UUID.Structured()
  s.setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString())
  s.setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`)).toString())
  uuid.setStructured(s)
  return uuid
}

const streamIdentifier = (name: string) => {
  const id = new sharedPb.StreamIdentifier()
  id.setStreamName(Buffer.from(name, "utf8"))
  return id
}

const streamName = (id: InstanceType<SharedPb["StreamIdentifier"]> | undefined): string =>
  id ? Buffer.from(id.getStreamName_asU8()).toString("utf8") : ""

const toProposed = (
  m: InstanceType<StreamsPb["AppendReq"]["ProposedMessage"]> | InstanceType<StreamsPb["BatchAppendReq"]["ProposedMessage"]>
): Proposed => ({
  id: parseUuid(m.getId()),
  type: m.getMetadataMap().get("type") ?? "",
  contentType: m.getMetadataMap().get("content-type") ?? "",
  data: m.getData_asU8(),
  customMetadata: m.getCustomMetadata_asU8()
})

/** A ReadResp carrying one event. `withCommitPosition`: $all reads/subscriptions set it. */
const eventResp = (e: StandInEvent, structuredIds: boolean, withCommitPosition: boolean): ReadResp => {
  const record = new streamsPb.ReadResp.ReadEvent.RecordedEvent()
  record.setId(makeUuid(e.id, structuredIds))
  record.setStreamIdentifier(streamIdentifier(e.stream))
  record.setStreamRevision(e.revision.toString())
  // Stream reads carry positions too (servers since 20.6 fill them in from the log).
  record.setPreparePosition(e.prepare.toString())
  record.setCommitPosition(e.commit.toString())
  const meta = record.getMetadataMap()
  meta.set("type", e.type)
  meta.set("content-type", e.contentType)
  meta.set("created", e.created.toString())
  record.setCustomMetadata(e.customMetadata)
  record.setData(e.data)
  const readEvent = new streamsPb.ReadResp.ReadEvent()
  readEvent.setEvent(record)
  if (withCommitPosition) readEvent.setCommitPosition(e.commit.toString())
  else readEvent.setNoPosition(new sharedPb.Empty())
  const resp = new streamsPb.ReadResp()
  resp.setEvent(readEvent)
  return resp
}

const expectedFrom = (
  o: InstanceType<StreamsPb["AppendReq"]["Options"]> | InstanceType<StreamsPb["BatchAppendReq"]["Options"]>
): Expected => {
  if ("hasRevision" in o && o.hasRevision()) return { kind: "revision", revision: BigInt(o.getRevision()) }
  if ("hasStreamPosition" in o && o.hasStreamPosition()) {
    return { kind: "revision", revision: BigInt(o.getStreamPosition()) }
  }
  if (o.hasNoStream()) return { kind: "no_stream" }
  if (o.hasStreamExists()) return { kind: "stream_exists" }
  return { kind: "any" }
}

/** A filter from ReadReq.Options.FilterOptions [docs-sub "Server-side filtering"]. */
interface Filter {
  readonly matches: (e: StandInEvent) => boolean
  /** Send a checkpoint after this many scanned events (checkpointInterval x window). */
  readonly checkpointEvery: number
}

const makeFilter = (f: FilterOptions | undefined): Filter | null => {
  if (!f) return null
  const expr = f.hasStreamIdentifier() ? f.getStreamIdentifier() : f.getEventType()
  const on = f.hasStreamIdentifier() ? (e: StandInEvent) => e.stream : (e: StandInEvent) => e.type
  const prefixes = expr?.getPrefixList() ?? []
  const regex = expr?.getRegex() ? new RegExp(expr.getRegex()) : null
  const matches = (e: StandInEvent) =>
    prefixes.length > 0 ? prefixes.some((p) => on(e).startsWith(p)) : regex ? regex.test(on(e)) : true
  // The search window defaults to 32 events when the client sends `count`. [docs-sub]
  const window = f.hasMax() ? f.getMax() : 32
  return { matches, checkpointEvery: Math.max(1, window * Math.max(1, f.getCheckpointintervalmultiplier())) }
}

const serviceError = (code: grpc.status, details: string, metadata?: Record<string, string>) => {
  const md = new grpc.Metadata()
  for (const [k, v] of Object.entries(metadata ?? {})) md.set(k, v)
  return Object.assign(new Error(details), { code, details, metadata: md })
}

// ---------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------

export const startEsdbStandIn = async (options: EsdbStandInOptions = {}): Promise<EsdbStandIn> => {
  const batchAppend = options.batchAppend ?? true
  const store = new TransactionLog(
    options.maxAppendSize ?? 256 * 1024 * 1024,
    options.maxAppendEventSize ?? 16 * 1024 * 1024,
    options.categoryLinks ?? true,
    options.idCacheBytes ?? 8 * 1024 * 1024
  )
  const unimplementedCalls: Array<string> = []
  const calls: Record<string, number> = {}
  const count = (path: string) => {
    calls[path] = (calls[path] ?? 0) + 1
  }
  const appendsByExpected: Record<string, number> = {}
  const appendTo = (stream: string, expected: Expected, proposed: Parameters<typeof store.append>[2]) => {
    appendsByExpected[expected.kind] = (appendsByExpected[expected.kind] ?? 0) + 1
    return store.append(stream, expected, proposed)
  }
  const injected = new Map<string, Array<{ code: grpc.status; details: string }>>()
  /** An injected failure for this call, if one is pending. */
  const injectedFailure = (path: string) => {
    const f = injected.get(path)?.shift()
    return f ? serviceError(f.code, f.details) : undefined
  }
  let responseDelayMs = 0
  const later = (f: () => void) => (responseDelayMs > 0 ? void setTimeout(f, responseDelayMs) : f())
  // Open server-streaming/duplex calls, so stop() can drop them.
  const openCalls = new Set<{ close: () => void }>()

  // A fresh node's $all already holds system events. [docs-streams]
  const systemEvent = (type: string, body: unknown): Proposed => ({
    id: randomUUID(),
    type,
    contentType: "application/json",
    data: Buffer.from(JSON.stringify(body)),
    customMetadata: new Uint8Array()
  })
  store.write("$$$scavenges", [systemEvent("$metadata", { $maxAge: 2592000 })])
  store.write("$users", [systemEvent("$UserCreated", { LoginName: "admin" })])
  store.write("$user-admin", [systemEvent("$User", { loginName: "admin", fullName: "Event Store Administrator" })])
  store.write("$stats-127.0.0.1:2113", [systemEvent("$statsCollection", { "proc-startTime": new Date().toISOString() })])

  // --- ServerFeatures [proto: serverfeatures_pb.d.ts; client: ServerFeatures.js] ---------
  const getSupportedMethods: grpc.handleUnaryCall<unknown, unknown> = (_call, callback) => {
    count("/event_store.client.server_features.ServerFeatures/GetSupportedMethods")
    const fault = injectedFailure("/event_store.client.server_features.ServerFeatures/GetSupportedMethods")
    if (fault) return callback(fault)
    const methods = new featuresPb.SupportedMethods()
    methods.setEventStoreServerVersion("23.10.0")
    const method = (service: string, name: string, features: Array<string> = []) => {
      const m = new featuresPb.SupportedMethod()
      m.setServiceName(service)
      m.setMethodName(name)
      m.setFeaturesList(features)
      return m
    }
    methods.setMethodsList([
      method("event_store.client.streams.streams", "read", ["position", "events"]),
      method("event_store.client.streams.streams", "append"),
      method("event_store.client.streams.streams", "batchappend"),
      method("event_store.client.server_features.serverfeatures", "getsupportedmethods")
    ])
    later(() => callback(null, methods))
  }

  // --- Streams.Append (client-streaming) -------------------------------------------------
  // First message: options (stream, expected revision); then one message per event.
  // A wrong expected version is a normal response with the wrong_expected_version oneof,
  // not a gRPC error [proto: AppendResp; client: append.js]. Max append size is a gRPC
  // error with `exception: maximum-append-size-exceeded` [client: CommandError.js].
  const append: grpc.handleClientStreamingCall<AppendReq, AppendResp> = (call, callback) => {
    count(streamsGrpc.StreamsService.append.path)
    const fault = injectedFailure(streamsGrpc.StreamsService.append.path)
    let opts: InstanceType<StreamsPb["AppendReq"]["Options"]> | undefined
    const proposed: Array<Proposed> = []
    call.on("data", (req: AppendReq) => {
      if (req.hasOptions()) opts = req.getOptions()
      else if (req.hasProposedMessage()) proposed.push(toProposed(req.getProposedMessage()!))
    })
    call.on("error", () => {})
    call.on("end", () => later(() => {
      if (fault) return callback(fault)
      if (!opts) return callback(serviceError(grpc.status.INVALID_ARGUMENT, "Options were not sent"))
      const stream = streamName(opts.getStreamIdentifier())
      const expected = expectedFrom(opts)
      const outcome = appendTo(stream, expected, proposed)
      const resp = new streamsPb.AppendResp()
      switch (outcome._tag) {
        case "Success": {
          const success = new streamsPb.AppendResp.Success()
          if (outcome.currentRevision === null) success.setNoStream(new sharedPb.Empty())
          else success.setCurrentRevision(outcome.currentRevision.toString())
          if (outcome.position === null) success.setNoPosition(new sharedPb.Empty())
          else {
            const p = new streamsPb.AppendResp.Position()
            p.setCommitPosition(outcome.position.commit.toString())
            p.setPreparePosition(outcome.position.prepare.toString())
            success.setPosition(p)
          }
          resp.setSuccess(success)
          return callback(null, resp)
        }
        case "WrongExpectedVersion": {
          const wev = new streamsPb.AppendResp.WrongExpectedVersion()
          if (outcome.current === null) wev.setCurrentNoStream(new sharedPb.Empty())
          else wev.setCurrentRevision(outcome.current.toString())
          if (expected.kind === "revision") wev.setExpectedRevision(expected.revision.toString())
          else if (expected.kind === "no_stream") wev.setExpectedNoStream(new sharedPb.Empty())
          else if (expected.kind === "stream_exists") wev.setExpectedStreamExists(new sharedPb.Empty())
          else wev.setExpectedAny(new sharedPb.Empty())
          resp.setWrongExpectedVersion(wev)
          return callback(null, resp)
        }
        case "MaxAppendSizeExceeded":
          return callback(
            serviceError(grpc.status.INVALID_ARGUMENT, `Maximum Append Size of ${outcome.max} Exceeded.`, {
              exception: "maximum-append-size-exceeded",
              "maximum-append-size": String(outcome.max)
            })
          )
        case "MaxAppendEventSizeExceeded":
          // RpcExceptions.MaxAppendEventSizeExceeded [src-limits]; the client (6.2.1) has no
          // error type for it and reports it as unknown, with this message.
          return callback(
            serviceError(
              grpc.status.INVALID_ARGUMENT,
              `Event with Id: ${outcome.id}, Size: ${outcome.size}, exceeds Maximum Append Event Size of ${outcome.max}.`,
              {
                exception: "maximum-append-event-size-exceeded",
                "maximum-append-event-size": String(outcome.max),
                "event-id": outcome.id,
                "proposed-append-event-size": String(outcome.size)
              }
            )
          )
        case "InvalidArgument":
          return callback(serviceError(grpc.status.INVALID_ARGUMENT, outcome.message))
      }
    }))
  }

  // --- Streams.BatchAppend (bidirectional) ----------------------------------------------
  // The client keeps one BatchAppend call open per channel and multiplexes appends over it
  // by correlation id; an append is a sequence of requests (options in the first) ending
  // with is_final. Each append gets one response with the same correlation id: success, or
  // a google.rpc.Status whose details pack an event_store.client.* error message (for a
  // wrong expected version: WrongExpectedVersion with the current revision). The options
  // carry a deadline; past it the server answers Timeout.
  // [proto: BatchAppendReq/BatchAppendResp; client: batchAppend.js, unpackError.js]
  const batchAppendCall: grpc.handleBidiStreamingCall<BatchAppendReq, BatchAppendResp> = (call) => {
    count(streamsGrpc.StreamsService.batchAppend.path)
    const handle = { close: () => call.destroy() }
    openCalls.add(handle)
    const pending = new Map<string, { opts?: InstanceType<StreamsPb["BatchAppendReq"]["Options"]>; proposed: Array<Proposed> }>()
    call.on("data", (req: BatchAppendReq) => {
      const correlationId = parseUuid(req.getCorrelationId())
      let entry = pending.get(correlationId)
      if (!entry) {
        entry = { proposed: [] }
        pending.set(correlationId, entry)
      }
      if (req.hasOptions()) entry.opts = req.getOptions()
      for (const m of req.getProposedMessagesList()) entry.proposed.push(toProposed(m))
      if (!req.getIsFinal()) return
      pending.delete(correlationId)
      const { opts, proposed } = entry
      later(() => {
        if (!call.cancelled && !call.destroyed && !call.writableEnded) call.write(batchAppendOne(correlationId, opts, proposed))
      })
    })
    call.on("error", () => {})
    call.on("end", () => call.end())
    call.on("close", () => openCalls.delete(handle))
  }

  const batchAppendOne = (
    correlationId: string,
    opts: InstanceType<StreamsPb["BatchAppendReq"]["Options"]> | undefined,
    proposed: Array<Proposed>
  ): BatchAppendResp => {
    const resp = new streamsPb.BatchAppendResp()
    resp.setCorrelationId(makeUuid(correlationId, false))
    const stream = opts ? streamName(opts.getStreamIdentifier()) : ""
    resp.setStreamIdentifier(streamIdentifier(stream))
    const expected: Expected = opts ? expectedFrom(opts) : { kind: "any" }
    if (expected.kind === "revision") resp.setStreamPosition(expected.revision.toString())
    else if (expected.kind === "no_stream") resp.setNoStream(new emptyPb.Empty())
    else if (expected.kind === "stream_exists") resp.setStreamExists(new emptyPb.Empty())
    else resp.setAny(new emptyPb.Empty())

    const fail = (code: grpc.status, message: string, detailsType: string, details: { serializeBinary(): Uint8Array }) => {
      const status = new statusPb.Status()
      status.setCode(code as number)
      status.setMessage(message)
      const any = new anyPb.Any()
      any.pack(details.serializeBinary(), detailsType)
      status.setDetails(any)
      resp.setError(status)
      return resp
    }
    if (!opts) return fail(grpc.status.INVALID_ARGUMENT, "Options were not sent", "event_store.client.BadRequest", new sharedPb.BadRequest())
    const deadline = opts.getDeadline()
    if (deadline && deadline.toDate().getTime() < Date.now()) {
      return fail(grpc.status.DEADLINE_EXCEEDED, "Timeout", "event_store.client.Timeout", new sharedPb.Timeout())
    }
    const outcome = appendTo(stream, expected, proposed)
    switch (outcome._tag) {
      case "Success": {
        const success = new streamsPb.BatchAppendResp.Success()
        if (outcome.currentRevision === null) success.setNoStream(new emptyPb.Empty())
        else success.setCurrentRevision(outcome.currentRevision.toString())
        if (outcome.position === null) success.setNoPosition(new emptyPb.Empty())
        else {
          const p = new sharedPb.AllStreamPosition()
          p.setCommitPosition(outcome.position.commit.toString())
          p.setPreparePosition(outcome.position.prepare.toString())
          success.setPosition(p)
        }
        resp.setSuccess(success)
        return resp
      }
      case "WrongExpectedVersion": {
        const wev = new sharedPb.WrongExpectedVersion()
        if (outcome.current === null) wev.setCurrentNoStream(new emptyPb.Empty())
        else wev.setCurrentStreamRevision(outcome.current.toString())
        if (expected.kind === "revision") wev.setExpectedStreamPosition(expected.revision.toString())
        else if (expected.kind === "no_stream") wev.setExpectedNoStream(new emptyPb.Empty())
        else if (expected.kind === "stream_exists") wev.setExpectedStreamExists(new emptyPb.Empty())
        else wev.setExpectedAny(new emptyPb.Empty())
        // Status.WrongExpectedVersion: code ALREADY_EXISTS. [src-status]
        return fail(grpc.status.ALREADY_EXISTS, "WrongExpectedVersion", "event_store.client.WrongExpectedVersion", wev)
      }
      case "MaxAppendSizeExceeded": {
        const m = new sharedPb.MaximumAppendSizeExceeded()
        m.setMaxappendsize(outcome.max)
        return fail(grpc.status.INVALID_ARGUMENT, "MaximumAppendSizeExceeded", "event_store.client.MaximumAppendSizeExceeded", m)
      }
      case "MaxAppendEventSizeExceeded": {
        // shared.proto (25.1) MaximumAppendEventSizeExceeded { string eventId = 1;
        // uint32 proposedEventSize = 2; uint32 maxAppendEventSize = 3; }, which the client's
        // generated code (6.2.1) predates: encoded by hand. [src-status]
        const w = new BinaryWriter()
        w.writeString(1, outcome.id)
        w.writeUint32(2, outcome.size)
        w.writeUint32(3, outcome.max)
        const bytes = w.getResultBuffer()
        return fail(grpc.status.INVALID_ARGUMENT, "MaximumAppendEventSizeExceeded", "event_store.client.MaximumAppendEventSizeExceeded", {
          serializeBinary: () => bytes
        })
      }
      case "InvalidArgument": {
        const b = new sharedPb.BadRequest()
        b.setMessage(outcome.message)
        return fail(grpc.status.INVALID_ARGUMENT, outcome.message, "event_store.client.BadRequest", b)
      }
    }
  }

  // --- Streams.Read (server-streaming) ---------------------------------------------------
  const read: grpc.handleServerStreamingCall<ReadReq, ReadResp> = (call) => {
    count(streamsGrpc.StreamsService.read.path)
    const fault = injectedFailure(streamsGrpc.StreamsService.read.path)
    if (fault) return void call.emit("error", fault)
    later(() => startRead(call))
  }

  const startRead = (call: grpc.ServerWritableStream<ReadReq, ReadResp>) => {
    if (call.cancelled || call.destroyed) return
    const opts = call.request.getOptions()
    if (!opts) return void call.emit("error", serviceError(grpc.status.INVALID_ARGUMENT, "Options were not sent"))
    const handle = { close: () => call.destroy() }
    openCalls.add(handle)
    call.on("close", () => openCalls.delete(handle))
    const structuredIds = opts.getUuidOption()?.hasStructured() ?? false
    const filter = opts.hasFilter() ? makeFilter(opts.getFilter()) : null
    const done = (err?: unknown) => {
      openCalls.delete(handle)
      if (err) call.emit("error", err)
      else if (!call.cancelled) call.end()
    }
    if (opts.hasSubscription()) {
      const subscription = opts.hasAll()
        ? subscribeAll(call, opts.getAll()!, filter, structuredIds)
        : subscribeStream(call, opts.getStream()!, structuredIds)
      subscription.then(() => done(), done)
      return
    }
    const countOpt = opts.hasCount() ? BigInt(opts.getCount()) : BigInt(Number.MAX_SAFE_INTEGER)
    const backwards = opts.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS
    const selected = opts.hasAll()
      ? readAll(opts.getAll()!, backwards, filter)
      : readStream(opts.getStream()!, backwards)
    if (selected === "not-found") {
      // Reading a stream with no events answers stream_not_found, not a gRPC error. [client: ReadStream.js]
      const resp = new streamsPb.ReadResp()
      const nf = new streamsPb.ReadResp.StreamNotFound()
      nf.setStreamIdentifier(opts.getStream()!.getStreamIdentifier())
      resp.setStreamNotFound(nf)
      call.write(resp)
      return done()
    }
    sendAll(call, selected, countOpt, opts.hasAll(), structuredIds).then(() => done(), done)
  }

  /** Reading a stream [docs-read]: revisions from 0; forwards from r is inclusive, backwards from r includes r. */
  const readStream = (
    so: InstanceType<StreamsPb["ReadReq"]["Options"]["StreamOptions"]>,
    backwards: boolean
  ): Array<StandInEvent> | "not-found" => {
    const events = store.streams.get(streamName(so.getStreamIdentifier()))
    if (!events || events.length === 0) return "not-found"
    const last = events.length - 1
    const from = so.hasRevision() ? Number(BigInt(so.getRevision())) : so.hasEnd() ? (backwards ? last : events.length) : 0
    return backwards ? events.slice(0, Math.min(from, last) + 1).reverse() : events.slice(from)
  }

  /**
   * Reading $all [docs-read]: forwards from a position includes the event at it; backwards
   * from a position returns the events before it (the log is read backwards from that byte
   * offset); backwards from end starts at the last event. System events are included.
   */
  const readAll = (
    ao: InstanceType<StreamsPb["ReadReq"]["Options"]["AllOptions"]>,
    backwards: boolean,
    filter: Filter | null
  ): Array<StandInEvent> => {
    const log = store.log
    let selected: Array<StandInEvent>
    if (ao.hasPosition()) {
      const p = ao.getPosition()!
      const pos = { commit: BigInt(p.getCommitPosition()), prepare: BigInt(p.getPreparePosition()) }
      selected = backwards
        ? log.filter((e) => comparePos(e, pos) < 0).reverse()
        : log.filter((e) => comparePos(e, pos) >= 0)
    } else if (ao.hasEnd()) {
      selected = backwards ? [...log].reverse() : []
    } else {
      selected = backwards ? [] : [...log]
    }
    return filter ? selected.filter(filter.matches) : selected
  }

  const write = async (call: grpc.ServerWritableStream<ReadReq, ReadResp>, resp: ReadResp): Promise<boolean> => {
    if (call.cancelled || call.destroyed) return false
    if (call.write(resp)) return true
    // Respect HTTP/2 flow control: wait until the client has read what is buffered.
    await new Promise<void>((resolve) => {
      const finish = () => {
        call.off("drain", finish)
        call.off("close", finish)
        call.off("cancelled", finish)
        resolve()
      }
      call.on("drain", finish)
      call.on("close", finish)
      call.on("cancelled", finish)
    })
    return !(call.cancelled || call.destroyed)
  }

  const sendAll = async (
    call: grpc.ServerWritableStream<ReadReq, ReadResp>,
    events: Array<StandInEvent>,
    max: bigint,
    isAll: boolean,
    structuredIds: boolean
  ) => {
    let sent = 0n
    for (const e of events) {
      if (sent >= max) break
      if (!(await write(call, eventResp(e, structuredIds, isAll)))) return
      sent++
      if (sent % 256n === 0n) await yieldToIo()
    }
  }

  /**
   * What every subscription does: a confirmation; then `next` (which sends what there is
   * to send, if anything) until it finds nothing: a caught_up message the first time, then
   * a wait for the next write. `next` answers "sent", "none", or "gone" (the client left).
   */
  const runSubscription = async (
    call: grpc.ServerWritableStream<ReadReq, ReadResp>,
    next: () => Promise<"sent" | "none" | "gone">
  ) => {
    const confirmation = new streamsPb.ReadResp()
    const c = new streamsPb.ReadResp.SubscriptionConfirmation()
    c.setSubscriptionId(randomUUID())
    confirmation.setConfirmation(c)
    if (!(await write(call, confirmation))) return
    const closed = new Promise<void>((resolve) => {
      call.on("close", resolve)
      call.on("cancelled", resolve)
    })
    let caughtUp = false
    while (!call.cancelled && !call.destroyed) {
      const outcome = await next()
      if (outcome === "gone") return
      if (outcome === "sent") continue
      if (!caughtUp) {
        caughtUp = true
        const resp = new streamsPb.ReadResp()
        resp.setCaughtUp(new streamsPb.ReadResp.CaughtUp())
        if (!(await write(call, resp))) return
        continue
      }
      await Promise.race([store.nextChange(), closed])
    }
  }

  /**
   * A catch-up subscription to $all [docs-sub]: every event after the start position
   * (exclusive; "start" = from the first event, "end" = only new ones) that passes the
   * filter, read from the log; caught_up when the reader reaches the end of the log (servers
   * since 23.10 send it [proto: ReadResp.caught_up; github.com/EventStore/EventStore pull
   * 3899]); then live events as they are written. With a filter, a checkpoint (the position
   * of the last scanned event) every `checkpointEvery` scanned events, matching or not.
   */
  const subscribeAll = (
    call: grpc.ServerWritableStream<ReadReq, ReadResp>,
    ao: InstanceType<StreamsPb["ReadReq"]["Options"]["AllOptions"]>,
    filter: Filter | null,
    structuredIds: boolean
  ) => {
    let index: number
    if (ao.hasPosition()) {
      const p = ao.getPosition()!
      const pos = { commit: BigInt(p.getCommitPosition()), prepare: BigInt(p.getPreparePosition()) }
      index = store.log.findIndex((e) => comparePos(e, pos) > 0)
      if (index < 0) index = store.log.length
    } else {
      index = ao.hasEnd() ? store.log.length : 0
    }
    let scanned = 0
    return runSubscription(call, async () => {
      if (index >= store.log.length) return "none"
      const e = store.log[index++]!
      scanned++
      if (!filter || filter.matches(e)) {
        if (!(await write(call, eventResp(e, structuredIds, true)))) return "gone"
      }
      if (filter && scanned % filter.checkpointEvery === 0) {
        const resp = new streamsPb.ReadResp()
        const cp = new streamsPb.ReadResp.Checkpoint()
        cp.setCommitPosition(e.commit.toString())
        cp.setPreparePosition(e.prepare.toString())
        resp.setCheckpoint(cp)
        if (!(await write(call, resp))) return "gone"
      }
      if (scanned % 256 === 0) await yieldToIo()
      return "sent"
    })
  }

  /**
   * A subscription to one stream, as Enumerator.StreamSubscription runs it [src-stream-sub]:
   * the events after the start revision (exclusive; start = from the first, end = after the
   * current last); caught_up once the stream is read to its end (at once when it does not
   * exist yet); then its new events as they are written. No checkpoints.
   */
  const subscribeStream = (
    call: grpc.ServerWritableStream<ReadReq, ReadResp>,
    so: InstanceType<StreamsPb["ReadReq"]["Options"]["StreamOptions"]>,
    structuredIds: boolean
  ) => {
    const name = streamName(so.getStreamIdentifier())
    let next = so.hasRevision() ? Number(BigInt(so.getRevision())) + 1 : so.hasEnd() ? store.streams.get(name)?.length ?? 0 : 0
    return runSubscription(call, async () => {
      const events = store.streams.get(name) ?? []
      if (next >= events.length) return "none"
      if (!(await write(call, eventResp(events[next++]!, structuredIds, false)))) return "gone"
      if (next % 256 === 0) await yieldToIo()
      return "sent"
    })
  }

  // --- Unimplemented services: answer UNIMPLEMENTED and record the call ------------------
  const stubHandlers = (service: grpc.ServiceDefinition) => {
    const impl: grpc.UntypedServiceImplementation = {}
    for (const [name, def] of Object.entries(service)) {
      const err = () => {
        unimplementedCalls.push(def.path)
        return serviceError(grpc.status.UNIMPLEMENTED, `${def.path} is not implemented by the esdb stand-in`)
      }
      impl[name] = def.requestStream || def.responseStream
        ? (call: { emit: (e: string, err: unknown) => void }) => void call.emit("error", err())
        : (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(err())
    }
    return impl
  }

  const buildServer = () => {
    const server = new grpc.Server()
    const streamsService = streamsGrpc.StreamsService as unknown as grpc.ServiceDefinition
    const streamsImpl = stubHandlers(streamsService)
    streamsImpl["read"] = read as grpc.UntypedHandleCall
    streamsImpl["append"] = append as grpc.UntypedHandleCall
    if (batchAppend) streamsImpl["batchAppend"] = batchAppendCall as grpc.UntypedHandleCall
    server.addService(streamsService, streamsImpl)
    // Without ServerFeatures the client assumes an old server and uses Append. [client: ServerFeatures.js]
    if (batchAppend) {
      server.addService(featuresGrpc.ServerFeaturesService as unknown as grpc.ServiceDefinition, {
        getSupportedMethods: getSupportedMethods as grpc.UntypedHandleCall
      })
    }
    for (const file of stubServiceModules) {
      const mod = require(`@eventstore/db-client/generated/${file}`) as Record<string, unknown>
      for (const [key, value] of Object.entries(mod)) {
        if (key.endsWith("Service")) server.addService(value as grpc.ServiceDefinition, stubHandlers(value as grpc.ServiceDefinition))
      }
    }
    return server
  }

  let server: grpc.Server | undefined
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = buildServer()
      s.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
        if (err) return reject(err)
        server = s
        resolve(bound)
      })
    })

  const port = await listen(options.port ?? 0)

  const stop = async () => {
    const s = server
    server = undefined
    if (!s) return
    for (const c of [...openCalls]) c.close()
    openCalls.clear()
    s.forceShutdown()
  }

  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    port,
    stop,
    restart: async () => {
      await stop()
      // The port was just released; retry briefly in case the OS has not caught up.
      for (let attempt = 0; ; attempt++) {
        try {
          await listen(port)
          return
        } catch (e) {
          if (attempt >= 20) throw e
          await new Promise((r) => setTimeout(r, 50))
        }
      }
    },
    appendSystemEvent: (stream = "$stats-127.0.0.1:2113", type = "$statsCollection") => {
      store.write(stream, [systemEvent(type, { at: new Date().toISOString() })])
    },
    allEvents: () => [...store.log],
    failNextCall: (path: string, code: grpc.status, details = "injected failure") => {
      injected.set(path, [...(injected.get(path) ?? []), { code, details }])
    },
    setResponseDelay: (ms: number) => {
      responseDelayMs = ms
    },
    unimplementedCalls,
    appendsByExpected,
    calls
  }
}
