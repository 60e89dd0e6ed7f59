/* Encoding and decoding of multiplex message headers, both protocol versions. */
#include "mux_frame.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t mux_encode_v2(uint8_t *out, uint16_t type, uint32_t dst, uint32_t src, uint32_t length)
{
	put16(out, MUX_VERSION_2);
	put16(out + 2, type);
	put32(out + 4, dst);
	put32(out + 8, src);
	put32(out + 12, length);
	return MUX_V2_HEADER_LEN;
}

size_t mux_encode_v1(uint8_t *out, uint16_t type, uint32_t channel, uint32_t length)
{
	put16(out, MUX_VERSION_1);
	put16(out + 2, type);
	put32(out + 4, channel);
	put32(out + 8, length);
	return MUX_V1_HEADER_LEN;
}

uint16_t mux_peek_version(const uint8_t *msg, size_t len)
{
	return len < 2 ? 0 : get16(msg);
}

enum mux_decode_status mux_decode_v2(const uint8_t *msg, size_t len, struct mux_header *h,
                                     const uint8_t **payload, size_t *payload_len)
{
	if (len < MUX_V2_HEADER_LEN)
		return MUX_DECODE_SHORT;
	h->version = get16(msg);
	h->type = get16(msg + 2);
	h->dst = get32(msg + 4);
	h->src = get32(msg + 8);
	h->length = get32(msg + 12);
	*payload = msg + MUX_V2_HEADER_LEN;
	*payload_len = len - MUX_V2_HEADER_LEN;
	return h->version == MUX_VERSION_2 ? MUX_DECODE_OK : MUX_DECODE_BAD_VERSION;
}

enum mux_decode_status mux_decode_v1(const uint8_t *msg, size_t len, struct mux_header *h,
                                     const uint8_t **payload, size_t *payload_len)
{
	if (len < MUX_V1_HEADER_LEN)
		return MUX_DECODE_SHORT;
	h->version = get16(msg);
	h->type = get16(msg + 2);
	h->dst = get32(msg + 4);
	h->src = 0;
	h->length = get32(msg + 8);
	*payload = msg + MUX_V1_HEADER_LEN;
	*payload_len = len - MUX_V1_HEADER_LEN;
	return MUX_DECODE_OK;
}

const char *mux_type_name(uint16_t version, uint16_t type)
{
	static const char *const v2[] = {"?", "DATA", "OPEN", "ACK", "CLOSE", "PAUSE", "RESUME"};
	static const char *const v1[] = {"?", "DATA", "CON", "CONACK", "FIN", "PAUSE", "RESUME"};
	if (type >= sizeof(v2) / sizeof(v2[0]))
		return "?";
	return version == MUX_VERSION_1 ? v1[type] : v2[type];
}
