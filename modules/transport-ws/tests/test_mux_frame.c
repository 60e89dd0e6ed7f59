/* Unit tests of the multiplex frame codec: byte-exact v2 (§4.7.1) and v1 (§4.8) examples. */
#include <criterion/criterion.h>
#include <string.h>

#include "mux_frame.h"
#include "tests/hex.h"

static void expect_v2(uint16_t type, uint32_t dst, uint32_t src, const char *payload,
                      const char *hex)
{
	uint8_t want[128], got[128];
	size_t want_len = unhex(hex, want);
	size_t plen = payload != NULL ? strlen(payload) : 0;
	size_t n = mux_encode_v2(got, type, dst, src, (uint32_t)plen);
	if (plen > 0)
		memcpy(got + n, payload, plen);
	cr_assert_eq(n + plen, want_len, "%s: length", hex);
	cr_assert_arr_eq(got, want, want_len, "%s", hex);

	/* And back. */
	struct mux_header h;
	const uint8_t *p;
	size_t len;
	cr_assert_eq(mux_decode_v2(want, want_len, &h, &p, &len), MUX_DECODE_OK);
	cr_assert_eq(h.version, 2);
	cr_assert_eq(h.type, type);
	cr_assert_eq(h.dst, dst);
	cr_assert_eq(h.src, src);
	cr_assert_eq(h.length, plen);
	cr_assert_eq(len, plen);
	if (plen > 0)
		cr_assert_arr_eq(p, payload, plen);
}

Test(mux_frame, worked_example_v2)
{
	/* docs/transport.md §4.7.1, rows 1-10 and the rejected open. */
	expect_v2(MUX_OPEN, 0, 1, NULL, "0002 0002 00000000 00000001 00000000");
	expect_v2(MUX_ACK, 1, 1, NULL, "0002 0003 00000001 00000001 00000000");
	expect_v2(MUX_DATA, 1, 1, "hello", "0002 0001 00000001 00000001 00000005 68656c6c6f");
	expect_v2(MUX_PAUSE, 1, 1, NULL, "0002 0005 00000001 00000001 00000000");
	expect_v2(MUX_RESUME, 1, 1, NULL, "0002 0006 00000001 00000001 00000000");
	expect_v2(MUX_DATA, 1, 1, "ok", "0002 0001 00000001 00000001 00000002 6f6b");
	expect_v2(MUX_CLOSE, 1, 1, NULL, "0002 0004 00000001 00000001 00000000");
	expect_v2(MUX_ACK, 1, 1, NULL, "0002 0003 00000001 00000001 00000000");
	expect_v2(MUX_DATA, 7, 7, "A", "0002 0001 00000007 00000007 00000001 41");
	expect_v2(MUX_CLOSE, 7, 0, MUX_ERR_CHANNEL_NOT_OPEN,
	          "0002 0004 00000007 00000000 00000018 "
	          "4552525f57534d5f4348414e4e454c5f4e4f545f4f50454e");
	expect_v2(MUX_CLOSE, 2, 0, MUX_ERR_NO_CHANNELS,
	          "0002 0004 00000002 00000000 00000013 "
	          "4552525f57534d5f4e4f5f4348414e4e454c53");
}

Test(mux_frame, raw_websocket_example)
{
	/* §4.3: DATA "yo" on channel 1 (the 16-byte header part). */
	uint8_t got[16];
	uint8_t want[16];
	unhex("00 02 00 01 00 00 00 01 00 00 00 01 00 00 00 02", want);
	mux_encode_v2(got, MUX_DATA, 1, 1, 2);
	cr_assert_arr_eq(got, want, 16);
}

static void expect_v1(uint16_t type, uint32_t channel, const char *payload, const char *hex)
{
	uint8_t want[64], got[64];
	size_t want_len = unhex(hex, want);
	size_t plen = payload != NULL ? strlen(payload) : 0;
	size_t n = mux_encode_v1(got, type, channel, (uint32_t)plen);
	if (plen > 0)
		memcpy(got + n, payload, plen);
	cr_assert_eq(n + plen, want_len, "%s: length", hex);
	cr_assert_arr_eq(got, want, want_len, "%s", hex);

	struct mux_header h;
	const uint8_t *p;
	size_t len;
	cr_assert_eq(mux_decode_v1(want, want_len, &h, &p, &len), MUX_DECODE_OK);
	cr_assert_eq(h.version, 1);
	cr_assert_eq(h.type, type);
	cr_assert_eq(h.dst, channel);
	cr_assert_eq(h.length, plen);
	cr_assert_eq(len, plen);
}

Test(mux_frame, v1_table)
{
	/* docs/transport.md §4.8 byte examples. */
	expect_v1(MUX_V1_CON, 0, NULL, "0001 0002 00000000 00000000");
	expect_v1(MUX_V1_CONACK, 0, NULL, "0001 0003 00000000 00000000");
	expect_v1(MUX_V1_DATA, 0, "hello", "0001 0001 00000000 00000005 68656c6c6f");
	expect_v1(MUX_V1_FIN, 0, NULL, "0001 0004 00000000 00000000");
	expect_v1(MUX_V1_PAUSE, 3, NULL, "0001 0005 00000003 00000000");
	expect_v1(MUX_V1_RESUME, 3, NULL, "0001 0006 00000003 00000000");
}

Test(mux_frame, v2_open_reads_as_v1_con_zero)
{
	/* §4.9: the probe a v1 client misreads as CON for channel 0. */
	uint8_t open[16];
	mux_encode_v2(open, MUX_OPEN, 0, 1, 0);
	struct mux_header h;
	const uint8_t *p;
	size_t len;
	cr_assert_eq(mux_decode_v1(open, sizeof(open), &h, &p, &len), MUX_DECODE_OK);
	cr_assert_eq(h.type, MUX_V1_CON);
	cr_assert_eq(h.dst, 0);
}

Test(mux_frame, short_messages)
{
	uint8_t msg[16] = {0, 2, 0, 1};
	struct mux_header h;
	const uint8_t *p;
	size_t len;
	for (size_t n = 0; n < 16; n++)
		cr_assert_eq(mux_decode_v2(msg, n, &h, &p, &len), MUX_DECODE_SHORT, "%zu", n);
	for (size_t n = 0; n < 12; n++)
		cr_assert_eq(mux_decode_v1(msg, n, &h, &p, &len), MUX_DECODE_SHORT, "%zu", n);
	cr_assert_eq(mux_peek_version(msg, 1), 0);
	cr_assert_eq(mux_peek_version(msg, 2), 2);
}

Test(mux_frame, wrong_version)
{
	uint8_t msg[20];
	mux_encode_v2(msg, MUX_DATA, 1, 1, 4);
	msg[1] = 3;
	struct mux_header h;
	const uint8_t *p;
	size_t len;
	cr_assert_eq(mux_decode_v2(msg, sizeof(msg), &h, &p, &len), MUX_DECODE_BAD_VERSION);
	cr_assert_eq(h.version, 3);
}

Test(mux_frame, length_field_not_trusted)
{
	/* The payload is what follows the header, whatever the length field says. */
	uint8_t msg[19];
	mux_encode_v2(msg, MUX_DATA, 1, 1, 1000);
	memcpy(msg + 16, "abc", 3);
	struct mux_header h;
	const uint8_t *p;
	size_t len;
	cr_assert_eq(mux_decode_v2(msg, sizeof(msg), &h, &p, &len), MUX_DECODE_OK);
	cr_assert_eq(len, 3);
	cr_assert_eq(h.length, 1000);
}

Test(mux_frame, big_channel_numbers)
{
	uint8_t msg[16];
	mux_encode_v2(msg, MUX_ACK, 0xFFFFFFFFu, 0x80000001u, 0);
	struct mux_header h;
	const uint8_t *p;
	size_t len;
	cr_assert_eq(mux_decode_v2(msg, sizeof(msg), &h, &p, &len), MUX_DECODE_OK);
	cr_assert_eq(h.dst, 0xFFFFFFFFu);
	cr_assert_eq(h.src, 0x80000001u);
}

Test(mux_frame, type_names)
{
	cr_assert_str_eq(mux_type_name(2, MUX_OPEN), "OPEN");
	cr_assert_str_eq(mux_type_name(1, MUX_V1_CONACK), "CONACK");
	cr_assert_str_eq(mux_type_name(2, 99), "?");
}
