/* Wire format of the websocket multiplex protocol, v2 (ws-multiplex 1.x) and v1
 * (exposr-cli <= 0.8): plain byte encoding, no libevent or websocket dependency. */
#ifndef EXPOSR_MUX_FRAME_H
#define EXPOSR_MUX_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define MUX_V2_HEADER_LEN  16
#define MUX_V1_HEADER_LEN  12
#define MUX_MAX_HEADER_LEN MUX_V2_HEADER_LEN

enum mux_version {
	MUX_VERSION_1 = 1,
	MUX_VERSION_2 = 2,
};

/* v2 message types (docs/transport.md §4.6). */
enum mux_type {
	MUX_DATA = 1,
	MUX_OPEN = 2,
	MUX_ACK = 3,
	MUX_CLOSE = 4,
	MUX_PAUSE = 5,
	MUX_RESUME = 6,
};

/* v1 message types (docs/transport.md §4.8): same numbers, other names and meanings. */
enum mux_v1_type {
	MUX_V1_DATA = 1,
	MUX_V1_CON = 2,
	MUX_V1_CONACK = 3,
	MUX_V1_FIN = 4,
	MUX_V1_PAUSE = 5,
	MUX_V1_RESUME = 6,
};

/* CLOSE payloads (ASCII, no terminator on the wire). */
#define MUX_ERR_CHANNEL_NOT_OPEN      "ERR_WSM_CHANNEL_NOT_OPEN"
#define MUX_ERR_NO_CHANNELS           "ERR_WSM_NO_CHANNELS"
#define MUX_ERR_OPEN_CHANNEL_REJECTED "ERR_WSM_OPEN_CHANNEL_REJECTED"
#define MUX_ERR_CHANNEL_MISMATCH      "ERR_WSM_CHANNEL_MISMATCH"

/* A decoded header. For v1, `dst` holds the one shared channel number and `src` is 0. */
struct mux_header {
	uint16_t version;
	uint16_t type;
	uint32_t dst;
	uint32_t src;
	uint32_t length;
};

enum mux_decode_status {
	MUX_DECODE_OK = 0,
	MUX_DECODE_SHORT,       /* shorter than the header: receivers ignore it */
	MUX_DECODE_BAD_VERSION, /* long enough, but not the version asked for */
};

/* Writes a v2 header into `out` (MUX_V2_HEADER_LEN bytes); returns its length. */
size_t mux_encode_v2(uint8_t *out, uint16_t type, uint32_t dst, uint32_t src, uint32_t length);
/* Writes a v1 header into `out` (MUX_V1_HEADER_LEN bytes); returns its length. */
size_t mux_encode_v1(uint8_t *out, uint16_t type, uint32_t channel, uint32_t length);

/* The version field of a message, or 0 when it is shorter than two bytes. */
uint16_t mux_peek_version(const uint8_t *msg, size_t len);

/* Decodes a v2 message. The payload is everything after the header (the length field is
 * not checked, as in ws-multiplex). */
enum mux_decode_status mux_decode_v2(const uint8_t *msg, size_t len, struct mux_header *h,
                                     const uint8_t **payload, size_t *payload_len);
/* Decodes a v1 message; the version field is not checked (the old client never does). */
enum mux_decode_status mux_decode_v1(const uint8_t *msg, size_t len, struct mux_header *h,
                                     const uint8_t **payload, size_t *payload_len);

/* "DATA", "OPEN", ... or "CON", "CONACK", "FIN" for v1; "?" for unknown types. */
const char *mux_type_name(uint16_t version, uint16_t type);

#endif
