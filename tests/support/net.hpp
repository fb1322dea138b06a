#pragma once
// Helpers for tests that talk over real sockets: temporary socket paths, unique local names,
// the four transports as test parameters, and a raw peer that speaks bytes, not messages.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/fiber/operations.hpp>

#include <sim/channel/channel.hpp>
#include <sim/framing/frame.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/transport/stream.hpp>

namespace sim_test {

/// A directory of its own under /tmp, removed at the end.
class temp_dir {
  public:
    temp_dir() {
        std::string tmpl = "/tmp/sim-test-XXXXXX";
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

inline std::string unique_name(const std::string& prefix) {
    static std::atomic<int> n{0};
    return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

/// Where the TLS tests' certificates are (made by make_test_certs.sh at configure time).
inline std::string cert(const std::string& file) {
    return std::string(SIM_TEST_CERTS) + "/" + file;
}

inline sim::tls_options server_tls() {
    return {cert("ca.pem"), cert("server.pem"), cert("server.key")};
}
inline sim::tls_options client_tls() {
    return {cert("ca.pem"), cert("client.pem"), cert("client.key")};
}

/// One of the four transports, as a test parameter: where to listen and how.
struct transport_case {
    std::string name;
    sim::address listen_at;
    sim::transport_options server;
    sim::transport_options client;
};

inline std::vector<transport_case> all_transports(const temp_dir& dir) {
    sim::transport_options tls_server, tls_client;
    tls_server.tls = server_tls();
    tls_client.tls = client_tls();
    return {
        {"tcp", sim::address::tcp("127.0.0.1", 0), {}, {}},
        {"unix", sim::address::ipc(dir.file("s.sock")), {}, {}},
        {"tls", sim::address::tcp("127.0.0.1", 0), tls_server, tls_client},
        {"local", sim::address::local(unique_name("local")), {}, {}},
    };
}

/// Waits (in a fiber) until `pred` holds, giving other fibers and I/O their turns; false if it
/// does not hold within `bound`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds bound = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + bound;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > until) return false;
        boost::this_fiber::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

/// Reads exactly one frame (header included) from a raw stream; empty at the end.
inline std::vector<std::byte> read_frame(sim::stream& s) {
    std::vector<std::byte> frame;
    auto fill = [&](std::size_t want) {
        while (frame.size() < want) {
            std::byte buf[4096];
            boost::system::error_code ec;
            std::size_t n =
                s.read_some(std::span(buf, std::min(sizeof buf, want - frame.size())), ec);
            if (ec) return false;
            frame.insert(frame.end(), buf, buf + n);
        }
        return true;
    };
    if (!fill(4)) return {};
    if (!fill(4 + sim::read_frame_header(frame.data()))) return {};
    return frame;
}

inline void write_bytes(sim::stream& s, std::span<const std::byte> bytes) {
    boost::asio::const_buffer b(bytes.data(), bytes.size());
    boost::system::error_code ec;
    s.write(std::span(&b, 1), ec);
    if (ec) throw boost::system::system_error(ec);
}

}  // namespace sim_test
