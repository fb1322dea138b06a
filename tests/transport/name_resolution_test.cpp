// Name resolution is bounded by the connect deadline. The test makes a network namespace of its
// own (as root, or through a user namespace otherwise) whose resolver is a UDP socket on
// 127.0.0.1:53 that does not answer: getaddrinfo would wait 30 s for it. Connecting must end at
// the deadline instead, with "timed out". Afterwards the test answers every query NXDOMAIN so that
// the resolver's thread, which nothing can cancel, ends at once and the runtime can close.
//
// This binary holds this one test: the namespaces apply to the whole process, and a user
// namespace can only be entered while it has a single thread.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include <sim/channel/channel.hpp>
#include <sim/core/error.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/transport/address.hpp>
#include <sim/transport/stream.hpp>

#include "support/net.hpp"

using namespace std::chrono_literals;

namespace {

std::string why(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

// A network and mount namespace of this process's own, with loopback up and /etc/resolv.conf
// replaced by `resolv_conf` for this process only.
void enter_namespaces(const std::string& resolv_conf) {
    if (::geteuid() != 0) {
        const auto uid = ::getuid();
        const auto gid = ::getgid();
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0)
            throw std::runtime_error(why("unshare(user, net, mount)"));
        write_file("/proc/self/setgroups", "deny");
        write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
        write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
    } else if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
        throw std::runtime_error(why("unshare(net, mount)"));
    }
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        throw std::runtime_error(why("making / private"));
    if (::mount(resolv_conf.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0)
        throw std::runtime_error(why("bind-mounting over /etc/resolv.conf"));

    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq lo{};
    std::strncpy(lo.ifr_name, "lo", IFNAMSIZ - 1);
    if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &lo) != 0) throw std::runtime_error(why("reading lo"));
    lo.ifr_flags = static_cast<short>(lo.ifr_flags | IFF_UP);
    if (::ioctl(s, SIOCSIFFLAGS, &lo) != 0) throw std::runtime_error(why("bringing lo up"));
    ::close(s);
}

// A DNS server on 127.0.0.1:53 that keeps silent until told to answer.
class silent_dns {
  public:
    silent_dns() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in at{};
        at.sin_family = AF_INET;
        at.sin_port = htons(53);
        at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0)
            throw std::runtime_error(why("binding 127.0.0.1:53"));
        if (::pipe2(stop_, O_CLOEXEC) != 0) throw std::runtime_error(why("pipe"));
    }
    ~silent_dns() {
        if (answering_.joinable()) {
            (void)!::write(stop_[1], "x", 1);
            answering_.join();
        }
        ::close(fd_);
        ::close(stop_[0]);
        ::close(stop_[1]);
    }

    // Whether a query has arrived (waiting for one at most `bound`).
    bool asked_within(std::chrono::milliseconds bound) const {
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, static_cast<int>(bound.count())) == 1;
    }

    // From now on, every query (those already waiting first) is answered "no such name".
    void answer_from_now_on() {
        answering_ = std::thread([this] {
            for (;;) {
                pollfd p[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
                if (::poll(p, 2, -1) < 0 || (p[1].revents & POLLIN) != 0) return;
                unsigned char query[512];
                sockaddr_in from{};
                socklen_t from_len = sizeof from;
                const auto n = ::recvfrom(fd_, query, sizeof query, 0,
                                          reinterpret_cast<sockaddr*>(&from), &from_len);
                if (n < 12) continue;
                query[2] = 0x81;               // a response, recursion desired
                query[3] = 0x83;               // recursion available, NXDOMAIN
                std::memset(query + 6, 0, 6);  // no answer, authority or additional records
                (void)::sendto(fd_, query, static_cast<std::size_t>(n), 0,
                               reinterpret_cast<sockaddr*>(&from), from_len);
            }
        });
    }

  private:
    int fd_ = -1;
    int stop_[2] = {-1, -1};
    std::thread answering_;
};

}  // namespace

TEST_CASE("connecting to a name whose resolver never answers ends at the connect deadline",
          "[transport][namespace]") {
    sim_test::temp_dir dir;
    const std::string resolv = dir.file("resolv.conf");
    // One attempt that waits 30 s: far beyond the deadline, so only the deadline can end it.
    write_file(resolv, "nameserver 127.0.0.1\noptions timeout:30 attempts:1\n");
    enter_namespaces(resolv);
    // The mount point must go before the directory can.
    struct unmount_at_end {
        ~unmount_at_end() { ::umount2("/etc/resolv.conf", MNT_DETACH); }
    } unmount;
    silent_dns dns;

    boost::system::error_code transport_ec;
    std::string channel_error;
    {
        sim::runtime rt;
        rt.run([&] {
            sim::transport_options o;
            o.handshake_timeout = 300ms;
            auto to = sim::address::parse("tcp://nobody-answers.example:5555");
            auto s = sim::connect_stream(to, o, transport_ec);
            CHECK(s == nullptr);

            sim::channel_options co;
            co.transport.handshake_timeout = 300ms;
            try {
                (void)sim::open_connection(to, co);
            } catch (const sim::connection_error& e) {
                channel_error = e.what();
            }
        });
        // The resolver did ask (the name went to the silent server, not to a file)...
        CHECK(dns.asked_within(10s));
        // ...and the runtime's resolver thread may end now.
        dns.answer_from_now_on();
    }
    CHECK(transport_ec == boost::asio::error::timed_out);
    CHECK_THAT(channel_error,
               Catch::Contains("cannot connect to tcp://nobody-answers.example:5555") &&
                   Catch::Contains("timed out"));
}
