/*
 * lode-c-baseline: the speed baseline for Lodestone's publisher and worker.
 *
 * A plain C client over librabbitmq (rabbitmq-c 0.11) doing the simplest
 * correct job, so our Swift code can be measured against it in the same run:
 *
 *   publish: persistent messages to the default exchange, publisher confirms,
 *            at most --window messages unconfirmed at any time.
 *   consume: basic.consume with manual acks, one basic.ack per message,
 *            --prefetch messages in flight.
 *
 * Each run prints exactly one JSON line on stdout; diagnostics go to stderr.
 * Exit status: 0 success, 1 runtime error (connection, broker, timeout),
 * 2 bad usage.
 *
 * Build: bench/c-baseline/build.sh [OUTPUT]
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#if defined(__has_include)
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h> /* librabbitmq >= 0.12 */
#include <rabbitmq-c/tcp_socket.h>
#define LODE_HAVE_NEW_HEADERS 1
#endif
#endif
#ifndef LODE_HAVE_NEW_HEADERS
#include <amqp.h> /* librabbitmq 0.11 (Debian 12) */
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#endif

#define CHANNEL 1
#define MAX_BODY_BYTES (64u * 1024u * 1024u)

static const char *prog = "lode-c-baseline";

/* ------------------------------------------------------------------ errors */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: error: ", prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void usage(FILE *out) {
  fprintf(out,
          "Usage:\n"
          "  %s publish --host H --port P --queue Q --count N --size BYTES --window W\n"
          "                  [--declare classic|quorum] [--timeout SECONDS]\n"
          "                  [--exchange E [--routing-key K]] [--mandatory] [--event-properties]\n"
          "  %s consume --host H --port P --queue Q --count N --prefetch P\n"
          "                  [--timeout SECONDS]\n"
          "\n"
          "Connects as guest/guest to vhost / (heartbeat 0).\n"
          "publish: sends N persistent messages (delivery_mode 2,\n"
          "  application/octet-stream, BYTES-byte body) to the default exchange\n"
          "  with routing key Q, in confirm mode, at most W unconfirmed at a time;\n"
          "  waits until all are confirmed. --declare deletes Q and declares it\n"
          "  again, durable, with that x-queue-type; without it Q must exist.\n"
          "  Prints {\"op\":\"publish\",\"count\":N,\"seconds\":S,\"rate\":R,\"nacked\":K}\n"
          "consume: basic.qos prefetch P, basic.consume with manual acks, acks\n"
          "  each message on its own until N are consumed. Timed from just before\n"
          "  basic.consume to the last ack.\n"
          "  Prints {\"op\":\"consume\",\"count\":N,\"seconds\":S,\"rate\":R}\n"
          "  --exchange E / --routing-key K: publish through exchange E (default: the\n"
          "  default exchange) with key K (default Q); --mandatory sets the flag;\n"
          "  --event-properties sends what a CloudEvent message carries under the\n"
          "  contract (content_type, message_id, type, app_id, timestamp,\n"
          "  delivery_mode): a like-for-like baseline for lode-publish --no-batch.\n"
          "--timeout: give up after SECONDS without a confirm or a delivery\n"
          "  (default 60; 0 = wait forever).\n",
          prog, prog);
}

static void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage_error(const char *fmt, ...) {
  va_list ap;
  usage(stderr);
  va_start(ap, fmt);
  fprintf(stderr, "%s: error: ", prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

/* Describe a broker close method (connection.close / channel.close). */
static void describe_close(const amqp_method_t *m, char *buf, size_t len) {
  if (m->id == AMQP_CONNECTION_CLOSE_METHOD && m->decoded != NULL) {
    const amqp_connection_close_t *c = m->decoded;
    snprintf(buf, len, "broker closed the connection: %u %.*s", c->reply_code,
             (int)c->reply_text.len, (const char *)c->reply_text.bytes);
  } else if (m->id == AMQP_CHANNEL_CLOSE_METHOD && m->decoded != NULL) {
    const amqp_channel_close_t *c = m->decoded;
    snprintf(buf, len, "broker closed the channel: %u %.*s", c->reply_code,
             (int)c->reply_text.len, (const char *)c->reply_text.bytes);
  } else {
    snprintf(buf, len, "unexpected method %s (0x%08x)", amqp_method_name(m->id),
             (unsigned)m->id);
  }
}

/* Exit with a message unless the RPC reply is a normal one. */
static void check_reply(amqp_rpc_reply_t r, const char *what) {
  char detail[512];
  switch (r.reply_type) {
  case AMQP_RESPONSE_NORMAL:
    return;
  case AMQP_RESPONSE_NONE:
    die("%s: no reply from the broker (missing RPC reply type)", what);
  case AMQP_RESPONSE_LIBRARY_EXCEPTION:
    die("%s: %s", what, amqp_error_string2(r.library_error));
  case AMQP_RESPONSE_SERVER_EXCEPTION:
    describe_close(&r.reply, detail, sizeof detail);
    die("%s: %s", what, detail);
  }
  die("%s: unknown reply type %d", what, (int)r.reply_type);
}

static void check_status(int status, const char *what) {
  if (status != AMQP_STATUS_OK) die("%s: %s", what, amqp_error_string2(status));
}

/* -------------------------------------------------------------- arguments */

typedef struct {
  const char *op;
  const char *host;
  long port;
  const char *queue;
  uint64_t count;
  uint64_t size;
  uint64_t window;
  uint64_t prefetch;
  const char *declare; /* NULL, "classic" or "quorum" */
  uint64_t timeout_s;
  int have_size, have_window, have_prefetch;
  const char *exchange;    /* publish: NULL = the default exchange */
  const char *routing_key; /* publish: NULL = the queue's name */
  int mandatory;           /* publish: set the mandatory flag */
  int event_properties;    /* publish: the properties a CloudEvent message carries */
} options_t;

static uint64_t parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max) {
  char *end = NULL;
  unsigned long long v;
  if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
    usage_error("%s needs a whole number, got '%s'", opt, s ? s : "");
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0')
    usage_error("%s needs a whole number, got '%s'", opt, s);
  if (v < min || v > max)
    usage_error("%s must be between %" PRIu64 " and %" PRIu64 ", got %s", opt, min, max, s);
  return (uint64_t)v;
}

static void parse_args(int argc, char **argv, options_t *o) {
  int i;
  memset(o, 0, sizeof *o);
  o->timeout_s = 60;
  if (argc < 2) usage_error("missing command (publish or consume)");
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    exit(0);
  }
  o->op = argv[1];
  if (strcmp(o->op, "publish") != 0 && strcmp(o->op, "consume") != 0)
    usage_error("unknown command '%s' (publish or consume)", o->op);
  int publish = strcmp(o->op, "publish") == 0;

  for (i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      exit(0);
    }
    if (strncmp(a, "--", 2) != 0) usage_error("unexpected argument '%s'", a);
    if (publish && strcmp(a, "--mandatory") == 0) { o->mandatory = 1; continue; }
    if (publish && strcmp(a, "--event-properties") == 0) { o->event_properties = 1; continue; }
    if (i + 1 >= argc) usage_error("%s needs a value", a);
    const char *v = argv[++i];
    if (strcmp(a, "--host") == 0) {
      if (*v == '\0') usage_error("--host must not be empty");
      o->host = v;
    } else if (strcmp(a, "--port") == 0) {
      o->port = (long)parse_uint(a, v, 1, 65535);
    } else if (strcmp(a, "--queue") == 0) {
      if (*v == '\0' || strlen(v) > 255) usage_error("--queue must be 1 to 255 bytes");
      o->queue = v;
    } else if (strcmp(a, "--count") == 0) {
      o->count = parse_uint(a, v, 1, UINT64_C(1) << 40);
    } else if (strcmp(a, "--timeout") == 0) {
      o->timeout_s = parse_uint(a, v, 0, 86400);
    } else if (publish && strcmp(a, "--size") == 0) {
      o->size = parse_uint(a, v, 0, MAX_BODY_BYTES);
      o->have_size = 1;
    } else if (publish && strcmp(a, "--window") == 0) {
      o->window = parse_uint(a, v, 1, UINT64_C(1) << 32);
      o->have_window = 1;
    } else if (publish && strcmp(a, "--exchange") == 0) {
      o->exchange = v;
    } else if (publish && strcmp(a, "--routing-key") == 0) {
      o->routing_key = v;
    } else if (publish && strcmp(a, "--declare") == 0) {
      if (strcmp(v, "classic") != 0 && strcmp(v, "quorum") != 0)
        usage_error("--declare must be classic or quorum, got '%s'", v);
      o->declare = v;
    } else if (!publish && strcmp(a, "--prefetch") == 0) {
      o->prefetch = parse_uint(a, v, 0, 65535); /* 0: no limit */
      o->have_prefetch = 1;
    } else {
      usage_error("unknown option '%s' for %s", a, o->op);
    }
  }
  if (o->host == NULL) usage_error("--host is required");
  if (o->port == 0) usage_error("--port is required");
  if (o->queue == NULL) usage_error("--queue is required");
  if (o->count == 0) usage_error("--count is required");
  if (publish && !o->have_size) usage_error("--size is required");
  if (publish && !o->have_window) usage_error("--window is required");
  if (!publish && !o->have_prefetch) usage_error("--prefetch is required");
}

/* ------------------------------------------------------------- connection */

static double now_seconds(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) die("clock_gettime: %s", strerror(errno));
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static amqp_connection_state_t connect_broker(const options_t *o) {
  amqp_connection_state_t conn = amqp_new_connection();
  if (conn == NULL) die("amqp_new_connection: out of memory");
  amqp_socket_t *sock = amqp_tcp_socket_new(conn);
  if (sock == NULL) die("amqp_tcp_socket_new: out of memory");
  int rc = amqp_socket_open(sock, o->host, (int)o->port);
  if (rc != AMQP_STATUS_OK)
    die("cannot connect to %s:%ld: %s (is the broker running? scripts/broker status)", o->host,
        o->port, amqp_error_string2(rc));
  check_reply(amqp_login(conn, "/", 0, AMQP_DEFAULT_FRAME_SIZE, 0 /* heartbeat */,
                         AMQP_SASL_METHOD_PLAIN, "guest", "guest"),
              "login as guest to vhost /");
  amqp_channel_open(conn, CHANNEL);
  check_reply(amqp_get_rpc_reply(conn), "channel.open");
  return conn;
}

static void disconnect_broker(amqp_connection_state_t conn) {
  check_reply(amqp_channel_close(conn, CHANNEL, AMQP_REPLY_SUCCESS), "channel.close");
  check_reply(amqp_connection_close(conn, AMQP_REPLY_SUCCESS), "connection.close");
  int rc = amqp_destroy_connection(conn);
  if (rc != AMQP_STATUS_OK) die("amqp_destroy_connection: %s", amqp_error_string2(rc));
}

/* Handles a method frame that is neither a confirm nor a delivery. */
static void other_method(const amqp_frame_t *f, const char *during) {
  static int blocked_noted = 0;
  char detail[512];
  switch (f->payload.method.id) {
  case AMQP_CONNECTION_BLOCKED_METHOD:
    if (!blocked_noted) {
      fprintf(stderr, "%s: note: broker blocked the connection (resource alarm)\n", prog);
      blocked_noted = 1;
    }
    return;
  case AMQP_CONNECTION_UNBLOCKED_METHOD:
    fprintf(stderr, "%s: note: broker unblocked the connection\n", prog);
    blocked_noted = 0;
    return;
  case AMQP_BASIC_CANCEL_METHOD:
    die("%s: the broker cancelled the consumer (queue deleted?)", during);
  default:
    describe_close(&f->payload.method, detail, sizeof detail);
    die("%s: %s", during, detail);
  }
}

/* ---------------------------------------------------------------- publish */

typedef struct {
  uint64_t published; /* tags 1..published have been sent */
  uint64_t settled;   /* acked or nacked */
  uint64_t nacked;
  uint64_t low;       /* every tag < low is settled */
  unsigned char *done; /* done[tag] != 0: settled; size count + 1 */
} confirms_t;

static void settle(confirms_t *c, uint64_t tag, int multiple, int nack) {
  if (tag == 0 || tag > c->published)
    die("broker confirmed delivery tag %" PRIu64 ", but only %" PRIu64 " were published", tag,
        c->published);
  uint64_t from = multiple ? c->low : tag;
  for (uint64_t t = from; t <= tag; t++) {
    if (!c->done[t]) {
      c->done[t] = 1;
      c->settled++;
      if (nack) c->nacked++;
    }
  }
  while (c->low <= c->published && c->done[c->low]) c->low++;
}

/* Reads one frame (blocking, up to the timeout) and applies it. */
static void read_confirm(amqp_connection_state_t conn, confirms_t *c, const options_t *o) {
  amqp_frame_t f;
  struct timeval tv = {(time_t)o->timeout_s, 0};
  int rc = amqp_simple_wait_frame_noblock(conn, &f, o->timeout_s ? &tv : NULL);
  if (rc == AMQP_STATUS_TIMEOUT)
    die("no confirm from the broker for %" PRIu64 "s (%" PRIu64 " published, %" PRIu64
        " confirmed); is a resource alarm blocking publishers?",
        o->timeout_s, c->published, c->settled);
  check_status(rc, "waiting for confirms");
  if (f.frame_type != AMQP_FRAME_METHOD)
    die("waiting for confirms: unexpected frame type %u on channel %u", (unsigned)f.frame_type,
        (unsigned)f.channel);
  if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
    const amqp_basic_ack_t *a = f.payload.method.decoded;
    settle(c, a->delivery_tag, a->multiple != 0, 0);
  } else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
    const amqp_basic_nack_t *n = f.payload.method.decoded;
    settle(c, n->delivery_tag, n->multiple != 0, 1);
  } else {
    other_method(&f, "waiting for confirms");
  }
}

static void declare_queue(amqp_connection_state_t conn, const options_t *o) {
  amqp_bytes_t q = amqp_cstring_bytes(o->queue);
  if (o->declare == NULL) {
    /* The default exchange silently drops (and confirms!) messages for a
       queue that does not exist: check that it does. */
    amqp_queue_declare(conn, CHANNEL, q, 1 /* passive */, 0, 0, 0, amqp_empty_table);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        r.reply.id == AMQP_CHANNEL_CLOSE_METHOD && r.reply.decoded != NULL &&
        ((amqp_channel_close_t *)r.reply.decoded)->reply_code == AMQP_NOT_FOUND)
      die("queue '%s' does not exist; pass --declare classic|quorum to create it", o->queue);
    check_reply(r, "queue.declare (passive)");
    return;
  }
  amqp_queue_delete(conn, CHANNEL, q, 0, 0);
  check_reply(amqp_get_rpc_reply(conn), "queue.delete");

  amqp_table_entry_t entry;
  entry.key = amqp_cstring_bytes("x-queue-type");
  entry.value.kind = AMQP_FIELD_KIND_UTF8;
  entry.value.value.bytes = amqp_cstring_bytes(o->declare);
  amqp_table_t args = {1, &entry};
  amqp_queue_declare(conn, CHANNEL, q, 0, 1 /* durable */, 0, 0, args);
  check_reply(amqp_get_rpc_reply(conn), "queue.declare");
}

static int run_publish(const options_t *o) {
  amqp_connection_state_t conn = connect_broker(o);
  declare_queue(conn, o);
  amqp_confirm_select(conn, CHANNEL);
  check_reply(amqp_get_rpc_reply(conn), "confirm.select");

  confirms_t c;
  memset(&c, 0, sizeof c);
  c.low = 1;
  c.done = calloc((size_t)o->count + 2, 1);
  if (c.done == NULL) die("out of memory for %" PRIu64 " confirms", o->count);

  amqp_bytes_t body;
  body.len = (size_t)o->size;
  body.bytes = malloc(o->size ? (size_t)o->size : 1);
  if (body.bytes == NULL) die("out of memory for a %" PRIu64 "-byte body", o->size);
  for (size_t i = 0; i < body.len; i++) ((unsigned char *)body.bytes)[i] = (unsigned char)('a' + i % 26);

  amqp_basic_properties_t props;
  memset(&props, 0, sizeof props);
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.content_type = amqp_cstring_bytes("application/octet-stream");
  props.delivery_mode = 2; /* persistent */
  char message_id[64];
  if (o->event_properties) {
    /* What a single-event message carries under the contract (section 3). */
    props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_APP_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
    props.content_type = amqp_cstring_bytes("application/cloudevents+json");
    props.type = amqp_cstring_bytes("zone.project.status_changed");
    props.app_id = amqp_cstring_bytes("bench/c-baseline");
    props.timestamp = (uint64_t)time(NULL);
  }
  amqp_bytes_t routing_key = amqp_cstring_bytes(o->routing_key ? o->routing_key : o->queue);
  amqp_bytes_t exchange = o->exchange ? amqp_cstring_bytes(o->exchange) : amqp_empty_bytes;

  double t0 = now_seconds();
  for (uint64_t i = 0; i < o->count; i++) {
    while (c.published - c.settled >= o->window) {
      read_confirm(conn, &c, o);
      /* Take whatever else has already arrived before publishing again. */
      while (amqp_frames_enqueued(conn) || amqp_data_in_buffer(conn)) read_confirm(conn, &c, o);
      amqp_maybe_release_buffers(conn);
    }
    if (o->event_properties) {
      snprintf(message_id, sizeof message_id, "c-baseline-%" PRIu64, i + 1);
      props.message_id = amqp_cstring_bytes(message_id);
    }
    int rc = amqp_basic_publish(conn, CHANNEL, exchange, routing_key, o->mandatory, 0, &props, body);
    if (rc != AMQP_STATUS_OK)
      die("basic.publish of message %" PRIu64 ": %s", i + 1, amqp_error_string2(rc));
    c.published++;
  }
  while (c.settled < c.published) {
    read_confirm(conn, &c, o);
    amqp_maybe_release_buffers(conn);
  }
  double seconds = now_seconds() - t0;

  disconnect_broker(conn);
  free(body.bytes);
  free(c.done);
  if (seconds <= 0) seconds = 1e-9;
  printf("{\"op\":\"publish\",\"count\":%" PRIu64 ",\"seconds\":%.3f,\"rate\":%.1f,\"nacked\":%" PRIu64
         "}\n",
         o->count, seconds, (double)o->count / seconds, c.nacked);
  if (fflush(stdout) != 0) die("writing the result: %s", strerror(errno));
  return 0;
}

/* ---------------------------------------------------------------- consume */

static int run_consume(const options_t *o) {
  amqp_connection_state_t conn = connect_broker(o);
  amqp_basic_qos(conn, CHANNEL, 0, (uint16_t)o->prefetch, 0);
  check_reply(amqp_get_rpc_reply(conn), "basic.qos");

  double t0 = now_seconds();
  amqp_basic_consume(conn, CHANNEL, amqp_cstring_bytes(o->queue), amqp_empty_bytes, 0,
                     0 /* manual ack */, 0, amqp_empty_table);
  check_reply(amqp_get_rpc_reply(conn), "basic.consume");

  struct timeval tv = {(time_t)o->timeout_s, 0};
  uint64_t consumed = 0, redelivered = 0;
  while (consumed < o->count) {
    amqp_envelope_t env;
    amqp_maybe_release_buffers(conn);
    amqp_rpc_reply_t r = amqp_consume_message(conn, &env, o->timeout_s ? &tv : NULL, 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
          r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        /* Some other method arrived: read it and act on it. */
        amqp_frame_t f;
        check_status(amqp_simple_wait_frame(conn, &f), "reading a non-delivery frame");
        if (f.frame_type != AMQP_FRAME_METHOD)
          die("consuming: unexpected frame type %u", (unsigned)f.frame_type);
        other_method(&f, "consuming");
        continue;
      }
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
        die("no delivery for %" PRIu64 "s after %" PRIu64 " of %" PRIu64
            " messages; does queue '%s' hold enough messages?",
            o->timeout_s, consumed, o->count, o->queue);
      check_reply(r, "basic.consume delivery");
    }
    if (env.channel != CHANNEL) die("delivery on unexpected channel %u", (unsigned)env.channel);
    if (env.redelivered) redelivered++;
    int rc = amqp_basic_ack(conn, CHANNEL, env.delivery_tag, 0);
    amqp_destroy_envelope(&env);
    if (rc != AMQP_STATUS_OK)
      die("basic.ack of message %" PRIu64 ": %s", consumed + 1, amqp_error_string2(rc));
    consumed++;
  }
  double seconds = now_seconds() - t0;

  disconnect_broker(conn);
  if (redelivered > 0)
    fprintf(stderr, "%s: note: %" PRIu64 " of the %" PRIu64 " deliveries were redeliveries\n", prog,
            redelivered, o->count);
  if (seconds <= 0) seconds = 1e-9;
  printf("{\"op\":\"consume\",\"count\":%" PRIu64 ",\"seconds\":%.3f,\"rate\":%.1f}\n", o->count,
         seconds, (double)o->count / seconds);
  if (fflush(stdout) != 0) die("writing the result: %s", strerror(errno));
  return 0;
}

int main(int argc, char **argv) {
  options_t o;
  parse_args(argc, argv, &o);
  if (strcmp(o.op, "publish") == 0) return run_publish(&o);
  return run_consume(&o);
}
