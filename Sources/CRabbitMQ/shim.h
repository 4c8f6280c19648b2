#ifndef LODE_CRABBITMQ_SHIM_H
#define LODE_CRABBITMQ_SHIM_H

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

/* amqp_login_with_properties is variadic: Swift cannot call it. */
static inline amqp_rpc_reply_t lode_login_plain(amqp_connection_state_t state, const char *vhost,
                                                int channel_max, int frame_max, int heartbeat,
                                                const amqp_table_t *client_properties,
                                                const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat,
                                      client_properties, AMQP_SASL_METHOD_PLAIN, user, password);
}

static inline amqp_rpc_reply_t lode_login_external(amqp_connection_state_t state, const char *vhost,
                                                   int channel_max, int frame_max, int heartbeat,
                                                   const amqp_table_t *client_properties,
                                                   const char *identity) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat,
                                      client_properties, AMQP_SASL_METHOD_EXTERNAL, identity);
}

/* AMQP_EMPTY_BYTES and AMQP_EMPTY_TABLE are macros. */
static inline amqp_bytes_t lode_empty_bytes(void) { return amqp_empty_bytes; }
static inline amqp_table_t lode_empty_table(void) { return amqp_empty_table; }

/* The method-number macros are casts, which Swift does not import. */
enum {
    LODE_CONNECTION_CLOSE = AMQP_CONNECTION_CLOSE_METHOD,
    LODE_CONNECTION_CLOSE_OK = AMQP_CONNECTION_CLOSE_OK_METHOD,
    LODE_CONNECTION_BLOCKED = AMQP_CONNECTION_BLOCKED_METHOD,
    LODE_CONNECTION_UNBLOCKED = AMQP_CONNECTION_UNBLOCKED_METHOD,
    LODE_CHANNEL_CLOSE = AMQP_CHANNEL_CLOSE_METHOD,
    LODE_CHANNEL_CLOSE_OK = AMQP_CHANNEL_CLOSE_OK_METHOD,
    LODE_BASIC_ACK = AMQP_BASIC_ACK_METHOD,
    LODE_BASIC_NACK = AMQP_BASIC_NACK_METHOD,
    LODE_BASIC_RETURN = AMQP_BASIC_RETURN_METHOD,
    LODE_BASIC_DELIVER = AMQP_BASIC_DELIVER_METHOD,
    LODE_BASIC_CANCEL = AMQP_BASIC_CANCEL_METHOD,
    LODE_BASIC_CANCEL_OK = AMQP_BASIC_CANCEL_OK_METHOD,
    LODE_BASIC_CONSUME_OK = AMQP_BASIC_CONSUME_OK_METHOD,
};

#endif
