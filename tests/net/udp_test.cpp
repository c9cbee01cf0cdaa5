// udp_socket: datagrams with and without a connected peer, sender addresses, cancellation and
// the ICMP-refused error of a connected socket.

#include <gtest/gtest.h>

#include <cerrno>
#include <coloop/coloop.hpp>
#include <coloop/net/udp.hpp>
#include <string>

#include "net/net_test_util.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::endpoint;
using coloop::task;
using coloop::udp_socket;
using coloop::test::errno_code;
using coloop::test::error_of;

class Udp : public coloop::test::flavour_test {};

TEST_P(Udp, SendToAndRecvFromCarryThePeer) {
  run([]() -> task<void> {
    udp_socket a = udp_socket::bind(endpoint::loopback(0));
    udp_socket b = udp_socket::bind(endpoint::loopback(0));
    EXPECT_EQ(co_await a.send_to("hello", 5, b.local_endpoint()), 5u);
    char buf[64];
    const coloop::datagram_info got = co_await b.recv_from(buf, sizeof buf);
    EXPECT_EQ(std::string(buf, got.size), "hello");
    EXPECT_EQ(got.peer, a.local_endpoint());
    // Datagram boundaries are kept.
    co_await b.send_to("one", 3, got.peer);
    co_await b.send_to("two!", 4, got.peer);
    EXPECT_EQ((co_await a.recv_from(buf, sizeof buf)).size, 3u);
    EXPECT_EQ((co_await a.recv_from(buf, sizeof buf)).size, 4u);
  }());
}

TEST_P(Udp, ConnectedSendAndRecv) {
  run([]() -> task<void> {
    udp_socket a = udp_socket::bind(endpoint::parse("[::1]:0"));
    udp_socket b = udp_socket::bind(endpoint::parse("[::1]:0"));
    a.connect(b.local_endpoint());
    b.connect(a.local_endpoint());
    EXPECT_EQ(co_await a.send("abc", 3), 3u);
    char buf[8];
    EXPECT_EQ(co_await b.recv(buf, sizeof buf), 3u);
    EXPECT_EQ(std::string(buf, 3), "abc");
  }());
}

TEST_P(Udp, CancelledReceiveTakesNothing) {
  run([]() -> task<void> {
    udp_socket a = udp_socket::bind(endpoint::loopback(0));
    udp_socket b = udp_socket::bind(endpoint::loopback(0));
    char buf[8];
    auto waiting = coloop::spawn(b.recv_from(buf, sizeof buf));
    co_await coloop::yield();
    waiting.cancel();
    EXPECT_EQ(co_await error_of(std::move(waiting)), coloop::errc::cancelled);
    co_await a.send_to("z", 1, b.local_endpoint());
    EXPECT_EQ((co_await b.recv_from(buf, sizeof buf)).size, 1u);
  }());
}

TEST_P(Udp, ConnectedSocketReportsRefusal) {
  run([]() -> task<void> {
    endpoint gone;
    {
      udp_socket tmp = udp_socket::bind(endpoint::loopback(0));
      gone = tmp.local_endpoint();
    }
    udp_socket a = udp_socket::bind(endpoint::loopback(0));
    a.connect(gone);
    co_await a.send("x", 1);  // the ICMP port-unreachable comes back as the next error
    char buf[4];
    EXPECT_EQ(co_await error_of(a.recv(buf, sizeof buf)), errno_code(ECONNREFUSED));
    a.close();
    EXPECT_EQ(co_await error_of(a.recv(buf, sizeof buf)), coloop::errc::closed);
    EXPECT_THROW(a.connect(gone), std::system_error);
    EXPECT_THROW(udp_socket::bind(endpoint::unix_path("/tmp/u")), std::invalid_argument);
  }());
}

COLOOP_INSTANTIATE_FLAVOURS(Udp);

}  // namespace
