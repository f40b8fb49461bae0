/*
 * src/app/netstat.h - a stack's socket table printed as net-tools
 * `netstat -a` prints Linux's (Debian net-tools 2.10):
 *
 *   Active Internet connections (servers and established)
 *   Proto Recv-Q Send-Q Local Address           Foreign Address         State
 *   udp        0      0 0.0.0.0:echo            0.0.0.0:*
 *   udp        0      0 10.0.0.1:40000          10.0.0.2:domain         ESTABLISHED
 *
 * Columns, padding, "0.0.0.0:*" for an unconnected UDP socket, "ESTABLISHED"
 * for a connected one and the cut of an address too long for its column
 * all follow netstat's tcp_do_one/udp_do_one. Ports are service names
 * from a services database unless TERN_NETSTAT_NUMERIC (-n).
 * DEVIATION: addresses are always numeric (netstat without -n asks DNS
 * for host names; a table printed from inside a stack must not block).
 * Recv-Q/Send-Q are payload bytes queued (Linux shows buffer truesize).
 * TERN_NETSTAT_INFO adds, under each TCP connection, the details line of
 * `ss -ti` (netstat has no such option; ss's format is the one users read).
 */
#ifndef TERN_APP_NETSTAT_H
#define TERN_APP_NETSTAT_H

#include <stdio.h>

#include "app/servdb.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define TERN_NETSTAT_NUMERIC 0x1 /* -n: port numbers, not service names */
#define TERN_NETSTAT_TCP 0x2     /* -t: TCP rows (neither TCP nor UDP: both) */
#define TERN_NETSTAT_UDP 0x4     /* -u: UDP rows */
#define TERN_NETSTAT_NO_HEADER 0x8
#define TERN_NETSTAT_INFO 0x10   /* ss -i: a details line under each TCP connection */
#define TERN_NETSTAT_LISTENING 0x20 /* ss -l: only TCP listeners and unconnected UDP */
#define TERN_NETSTAT_CONNECTED 0x40 /* ss (no -a/-l): only the other rows */

/* One row (a line ending in '\n'). db may be NULL (numeric ports). */
void netstat_row(FILE *out, const struct tern_sock_info *row, const struct tern_servdb *db,
                      unsigned flags);
/* The details of one TCP connection as `ss -ti` (iproute2 6.1,
 * tcp_show_info) prints them, in its order, the subset tern knows:
 *   "\t ts sack cubic wscale:7,7 rto:204 rtt:0.5/0.25 mss:1460 advmss:1460
 *    cwnd:10 ssthresh:7 unacked:1 retrans:0/2 notsent:100 snd_wnd:64240\n"
 * (one line). Times in ms with %g; cwnd, ssthresh, unacked and retrans in
 * segments of mss (ss shows the kernel's segment counts; tern keeps bytes:
 * cwnd and ssthresh round down, unacked and retrans up); ssthresh only once
 * set, retrans as current/total; a field that is zero is left out, as ss
 * does. Prints nothing for a row without details (UDP, LISTEN, CLOSED). */
void netstat_details(FILE *out, const struct tern_sock_info *row);
/* The two header lines, then TCP rows, then UDP rows (netstat's order),
 * each sorted by local address and port. Sockets not bound yet are not
 * listed (Linux does not hash them either). Returns the rows printed, or
 * TERN_E_NOMEM. */
int netstat_print(FILE *out, struct tern_stack *s, const struct tern_servdb *db,
                       unsigned flags);

#endif
