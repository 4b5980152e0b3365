/* The RPC contract, version 1, as C constants. proto/README.md is the prose
 * and *.schema.json the message shapes; tests/unit/test_proto.c keeps the
 * three in step. Change one, change all, and bump WR_PROTO_VERSION when a
 * change is not backwards compatible. */
#ifndef WARREN_PROTO_H
#define WARREN_PROTO_H

#define WR_PROTO_VERSION 1

/* Topology: requests go through the default exchange to a durable quorum
 * queue per service; poison messages dead-letter to warren.dead. */
#define WR_QUEUE_PREFIX "warren."
#define WR_QUEUE_WRITE_SUFFIX ".write"
#define WR_DLX_EXCHANGE "warren.dlx"
#define WR_DEAD_QUEUE "warren.dead"
#define WR_DELIVERY_LIMIT 5
#define WR_DEAD_MAX_LENGTH 100000 /* warren.dead keeps the newest this many */
#define WR_REPLY_TO "amq.rabbitmq.reply-to"
/* The edge's audit records (requests it answered itself) travel to the
 * workers' spools through this quorum queue, as messages of type "audit"
 * whose body is the audit document. */
#define WR_AUDIT_QUEUE "warren.audit"
#define WR_MSG_TYPE_AUDIT "audit"
/* Several such documents in one message (an edge with EDGE_BATCH sends
 * what one loop turn recorded together): the body is 1 to
 * WR_AUDIT_BATCH_DOCS_MAX documents, each as an "audit" message would carry
 * it, separated by single LFs (proto/README.md section 2). */
#define WR_MSG_TYPE_AUDIT_BATCH "audit_batch"
#define WR_AUDIT_BATCH_DOCS_MAX 256
#define WR_CONTENT_TYPE "application/json"
/* Proto v2's batch (proto/README.md section 13): read requests for one
 * queue travel together in one message of this type, and their replies
 * come back together in one message of the same type. A batch holds 1 to
 * WR_RPC_BATCH_ITEMS_MAX items (the edge sends one alone as v1); "v": 2. */
#define WR_MSG_TYPE_RPC_BATCH "rpc_batch"
#define WR_RPC_BATCH_VERSION 2
#define WR_RPC_BATCH_ITEMS_MAX 256

/* Request headers. */
#define WR_HDR_DEADLINE "x-deadline-ms" /* absolute deadline, epoch ms (long) */
#define WR_HDR_BASE_URL "x-base-url"    /* scheme://host the client used */
#define WR_HDR_PRINCIPAL "x-principal"  /* who the edge let in: an API key's name */
/* W3C Trace Context, as HTTP carries it (and OpenTelemetry's messaging
 * conventions carry it in AMQP headers): the caller's span, and vendor
 * state passed on untouched. */
#define WR_HDR_TRACEPARENT "traceparent" /* 00-<trace id>-<parent span id>-<flags> */
#define WR_HDR_TRACESTATE "tracestate"
/* Reply headers: x-status carries the HTTP status; every other header is an
 * HTTP header the edge copies as is. */
#define WR_HDR_STATUS "x-status"
#define WR_HDR_LINK "link"
#define WR_HDR_CACHE "x-cache" /* how the cache took part: local, hit, miss, ... */
/* Read your writes: a write's reply carries the position its transaction
 * committed at; a read may ask to be answered from data at or past one. */
#define WR_HDR_POSITION "x-position" /* a change message's position (long) */
/* a write's reply: decimal text; the edge sends it as X-Warren-Position */
#define WR_HDR_REPLY_POSITION "x-warren-position"
/* a read's request header: decimal text, from X-Warren-Min-Position */
#define WR_HDR_MIN_POSITION "x-min-position"
#define WR_MIN_POSITION_DIGITS 18 /* at most, so it fits a long long */
/* An export's chunk (op list with format; proto/README.md, "Exports"): the
 * rows it holds (decimal), and the cursor of the next chunk, absent on the
 * last one. */
#define WR_HDR_ROWS "x-warren-rows"
#define WR_HDR_NEXT "x-warren-next"
/* The formats of an export (the envelope's "format"): their media types. */
#define WR_FORMAT_CSV "csv"
#define WR_FORMAT_NDJSON "ndjson"
#define WR_MEDIA_CSV "text/csv"
#define WR_MEDIA_NDJSON "application/x-ndjson"

/* The change stream (proto/README.md section 9): warren.<service>.changes,
 * one message per committed write transaction. */
#define WR_CHANGES_SUFFIX ".changes"
#define WR_MSG_TYPE_CHANGE "change"
#define WR_CHANGE_CONTENT_TYPE "application/x-sqlite-changeset"
#define WR_HDR_COMMITTED "x-committed-ms" /* the commit time, epoch ms (long) */
#define WR_HDR_STREAM_OFFSET "x-stream-offset"
#define WR_HDR_LOG_ID "x-log-id" /* the writer file's log: positions count within it */

/* Change events (section 13): one message per changed row of a committed
 * write transaction, on the topic exchange warren.events with routing key
 * <service>.<Collection>.<created|updated|deleted>, and kept for readers
 * from an offset in the stream warren.<service>.events. */
#define WR_EVENTS_EXCHANGE "warren.events"
#define WR_EVENTS_SUFFIX ".events"
#define WR_MSG_TYPE_EVENT "event"
#define WR_EVENT_CONTENT_TYPE "application/json"
#define WR_HDR_EVENT_INDEX "x-event-index" /* k: the row's event within its transaction */
#define WR_HDR_EVENT_COUNT "x-event-count" /* the events of that transaction */
#define WR_HDR_SERVICE "x-service"

/* A request id: 32 lowercase hex characters, used as message_id and
 * correlation_id. */
#define WR_REQUEST_ID_LEN 32

/* The numbers a client gives, checked where they enter (the edge's route,
 * the envelope's decoder, the search parser, the cursor reader) against
 * these bounds and nowhere else: page and results_per_page are 1 to
 * WR_PAGE_MAX; a search's limit and offset 0 to WR_Q_COUNT_MAX (2^53 - 1,
 * the largest integer every JSON reader holds exactly). So a page's rows,
 * offset + (page - 1) * results_per_page, stay below 2^61: no arithmetic
 * on them can overflow 64 bits. */
#define WR_PAGE_MAX 1000000000L
#define WR_Q_COUNT_MAX 9007199254740991LL

/* Operations (the AMQP `type` property and the envelope's "op"). */
#define WR_OP_LIST "list"
#define WR_OP_GET "get"
#define WR_OP_RELATED "related"
#define WR_OP_CREATE "create"           /* POST /api/<collection> */
#define WR_OP_UPDATE "update"           /* PATCH or PUT /api/<collection>/<id> */
#define WR_OP_DELETE "delete"           /* DELETE /api/<collection>/<id> */
#define WR_OP_FUNCTIONS "functions"     /* aggregates over a search: /api/eval/<collection> */
#define WR_OP_COLLECTIONS "collections" /* GET /api: the served collections (no collection) */
#define WR_OP_OPENAPI "openapi"         /* GET /api/openapi.json (no collection) */
#define WR_OP_BATCH "batch"             /* POST /api/_batch: writes applied in one transaction */

/* The batch route's path segment (/api/_batch: no collection can be named
 * so, as names beginning with '_' are refused) and the operations one batch
 * holds at most. */
#define WR_BATCH_SEGMENT "_batch"
#define WR_BATCH_MAX 100
/* The deepest ?depth= a request may ask (the worker's MAX_DEPTH caps it). */
#define WR_DEPTH_MAX 2

/* Other services (proto/README.md section 4, "Other services"): an op is a
 * word of [a-z][a-z0-9_]{0,31} carried in the AMQP type and the envelope. */
#define WR_OP_NAME_MAX 32
/* The example service: the audit trail read back. Op records, with id =
 * a request id, answers that request's audit documents, oldest first. */
#define WR_SERVICE_AUDITLOG "auditlog"
#define WR_OP_RECORDS "records"
#define WR_AUDITLOG_MAX_RECORDS 100 /* documents one answer holds at most */

/* Error codes: the "code" of every error body. */
#define WR_CODE_BAD_REQUEST "bad_request"
#define WR_CODE_BAD_PARAMETER "bad_parameter"
#define WR_CODE_NOT_FOUND "not_found"
#define WR_CODE_METHOD_NOT_ALLOWED "method_not_allowed"
#define WR_CODE_NOT_IMPLEMENTED "not_implemented" /* 501: a method HTTP/1.1 does not define */
#define WR_CODE_VERSION_NOT_SUPPORTED "version_not_supported" /* 505: not HTTP/1.x */
#define WR_CODE_PAYLOAD_TOO_LARGE "payload_too_large"
#define WR_CODE_UNAVAILABLE "unavailable"
#define WR_CODE_TIMEOUT "timeout"
#define WR_CODE_INTERNAL "internal"
#define WR_CODE_OVERLOADED "overloaded"
#define WR_CODE_UNSUPPORTED_VERSION "unsupported_version"
#define WR_CODE_CONFLICT "conflict" /* 409: a constraint refused a write */
#define WR_CODE_UNSUPPORTED_MEDIA_TYPE "unsupported_media_type" /* 415 */
#define WR_CODE_NOT_ACCEPTABLE "not_acceptable" /* 406: Accept names nothing served */
/* The last line of an NDJSON export cut short: {"error":{"code":...}} */
#define WR_CODE_ROW_CAP "row_cap"                     /* EXPORT_MAX_ROWS reached */
#define WR_CODE_CHUNK_FAILED "chunk_failed"           /* a chunk of an export failed */
#define WR_CODE_SHUTTING_DOWN "shutting_down"         /* the edge drained mid-export */
#define WR_CODE_VALIDATION_FAILED "validation_failed" /* 400, with validation_errors */
#define WR_CODE_UNAUTHORIZED "unauthorized"           /* 401: a write without an API key */
#define WR_CODE_FORBIDDEN "forbidden"                 /* 403: a wrong API key, or writes off */
#define WR_CODE_URI_TOO_LONG "uri_too_long"           /* 414 */
#define WR_CODE_HEADERS_TOO_LARGE "headers_too_large" /* 431 */
/* 409: a write's request id was already used for another write (another
 * principal, op, path or body) */
#define WR_CODE_REQUEST_ID_REUSED "request_id_reused"
#define WR_CODE_STALE "stale" /* 504: a replica stayed behind X-Warren-Min-Position */
/* 400: a q's relation filters nest deeper, or are more, than the limits */
#define WR_CODE_SEARCH_TOO_COMPLEX "search_too_complex"
/* 422: a search ran past SEARCH_MAX_STEPS (SQLite VM steps) and was cut */
#define WR_CODE_SEARCH_TOO_COSTLY "search_too_costly"
/* 429: a client over its RATE_LIMIT_RPS, or with SEARCH_CONCURRENCY
 * searches in flight (Retry-After says when to try again) */
#define WR_CODE_RATE_LIMITED "rate_limited"

#endif
