/* Tests for src/app/telnet.c: RFC 854 refusals and the NVT's data rules. */
#include "app/telnet.h"
#include "harness.h"

TEST(telnet_refuses_every_option_and_keeps_the_data)
{
    struct tern_telnet t = {0};
    /* DO TTYPE, WILL ECHO, WONT SGA, DONT NAWS, SB TTYPE SEND IAC SE, NOP,
     * then "+OK\r\n" with an IAC IAC and a CR NUL inside */
    const uint8_t in[] = {255, 253, 24, 255, 251, 1, 255, 252, 3, 255, 254, 31,
                          255, 250, 24, 1, 255, 240, 255, 241,
                          '+', 'O', 'K', 255, 255, '\r', 0, 'x', '\r', '\n'};
    uint8_t data[sizeof in], reply[3 * sizeof in];
    size_t dl, rl;
    telnet_rx(&t, in, sizeof in, data, &dl, reply, &rl);
    const uint8_t want_data[] = {'+', 'O', 'K', 255, '\r', 'x', '\r', '\n'};
    const uint8_t want_reply[] = {255, 252, 24, 255, 254, 1}; /* WONT TTYPE, DONT ECHO only */
    CHECK_EQ(dl, sizeof want_data);
    CHECK(dl == sizeof want_data && !memcmp(data, want_data, dl));
    CHECK_EQ(rl, sizeof want_reply);
    CHECK(rl == sizeof want_reply && !memcmp(reply, want_reply, rl));
    CHECK_EQ(t.refused, 2u);
}

TEST(telnet_commands_split_across_reads)
{
    struct tern_telnet t = {0};
    const uint8_t in[] = {'a', 255, 253, 1, 'b'};
    uint8_t data[8], reply[16], all_d[8], all_r[16];
    size_t dl, rl, ad = 0, ar = 0;
    for (size_t i = 0; i < sizeof in; i++) { /* one byte at a time */
        telnet_rx(&t, &in[i], 1, data, &dl, reply, &rl);
        memcpy(all_d + ad, data, dl);
        ad += dl;
        memcpy(all_r + ar, reply, rl);
        ar += rl;
    }
    CHECK(ad == 2 && all_d[0] == 'a' && all_d[1] == 'b');
    CHECK(ar == 3 && all_r[0] == 255 && all_r[1] == 252 && all_r[2] == 1);
}

TEST(telnet_tx_crlf_and_iac)
{
    const uint8_t in[] = {'U', 'S', 'E', 'R', '\n', 255, 'a', '\r', '\n'};
    uint8_t out[2 * sizeof in];
    size_t n = telnet_tx(in, sizeof in, out);
    const uint8_t want[] = {'U', 'S', 'E', 'R', '\r', '\n', 255, 255, 'a', '\r', '\n'};
    CHECK(n == sizeof want && !memcmp(out, want, n));
}
