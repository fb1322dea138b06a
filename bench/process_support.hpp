#pragma once
// What the benchmarks across a process boundary share (agent_bench.cpp, mosaik_bench.cpp,
// soak.cpp): child processes (this program again, or another), pinning to one core, and the floor
// of a round trip between two processes: a raw 64-byte ping-pong with an echo child, both its ends.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_support.hpp"

extern char** environ;

namespace sim::bench {

// This program started again as a child (see main.cpp): `--agent-child container|echo BUSY_US`.
class child {
  public:
    child(std::string mode, int busy_us)
        : child({std::filesystem::read_symlink("/proc/self/exe").string(), "--agent-child", mode,
                 std::to_string(busy_us)}) {}
    /// Any program; with `where_line`, its first line of output says where it listens.
    explicit child(std::vector<std::string> args, bool where_line = true) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        if (rc != 0) {
            ::close(fds[0]);
            throw std::runtime_error("cannot start " + args.front());
        }
        if (!where_line) {
            ::close(fds[0]);
            return;
        }
        // Its first line says where it listens.
        std::string line;
        char ch;
        pollfd p{fds[0], POLLIN, 0};
        while (::poll(&p, 1, 10'000) > 0 && ::read(fds[0], &ch, 1) == 1 && ch != '\n')
            line.push_back(ch);
        ::close(fds[0]);
        if (line.empty()) {
            stop();  // no destructor runs for a constructor that throws
            throw std::runtime_error("the child did not say where it listens");
        }
        where_ = line;
    }
    child(const child&) = delete;
    child& operator=(const child&) = delete;
    ~child() { stop(); }
    /// Kills and reaps the child (once; the destructor does it too).
    void stop() noexcept {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    /// -1 once stopped.
    pid_t pid() const noexcept { return pid_; }
    const std::string& where() const { return where_; }

  private:
    pid_t pid_ = -1;
    std::string where_;
};

// The echo child's end of the floor (`--agent-child echo BUSY_US`, in sim-bench and sim-soak):
// listens on TCP loopback, prints its port, accepts one connection and writes back whatever it
// reads, so that it serves one frame at a time and pipelined frames alike. With `spin`, it polls a
// non-blocking socket instead of blocking in recv. Returns 0 when the connection ends, 1 when it
// cannot listen.
inline int serve_raw_echo(bool spin) {
    const int ls = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(ls, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(ls, 1) != 0) return 1;
    ::getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len);
    std::printf("%d\n", ntohs(a.sin_port));
    std::fflush(stdout);
    const int s = ::accept(ls, nullptr, nullptr);
    int one = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::vector<char> buf(64 * 1024);
    for (;;) {
        const ssize_t n = ::recv(s, buf.data(), buf.size(), spin ? MSG_DONTWAIT : 0);
        if (n <= 0) {
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            return 0;
        }
        for (ssize_t sent = 0; sent < n;) {
            const ssize_t w = ::send(s, buf.data() + sent, static_cast<std::size_t>(n - sent), 0);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return 0;
            sent += w;
        }
    }
}

// Pins this thread (and the children it starts) to one core while it lives.
class pinned {
  public:
    explicit pinned(bool on) : on_(on) {
        if (!on_) return;
        sched_getaffinity(0, sizeof before_, &before_);
        cpu_set_t one;
        CPU_ZERO(&one);
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &before_)) {
                CPU_SET(cpu, &one);
                break;
            }
        }
        sched_setaffinity(0, sizeof one, &one);
    }
    ~pinned() {
        if (on_) sched_setaffinity(0, sizeof before_, &before_);
    }

  private:
    bool on_;
    cpu_set_t before_{};
};

inline constexpr int busy_poll_us = 50;

// The floor: a raw 64-byte ping-pong with an echo child, blocking or spinning.
class raw_remote_pingpong {
  public:
    explicit raw_remote_pingpong(bool spin) : echo_("echo", spin ? busy_poll_us : 0), spin_(spin) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(echo_.where())));
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            error_ = "cannot connect to the echo child";
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        frame_.fill('x');
    }
    raw_remote_pingpong(const raw_remote_pingpong&) = delete;
    raw_remote_pingpong& operator=(const raw_remote_pingpong&) = delete;
    ~raw_remote_pingpong() {
        if (fd_ >= 0) ::close(fd_);
    }

    SIM_BENCH_OP void operator()() {
        if (::send(fd_, frame_.data(), frame_.size(), 0) != static_cast<ssize_t>(frame_.size()))
            error_ = "send failed";
        std::size_t got = 0;
        while (got < frame_.size()) {
            ssize_t n =
                ::recv(fd_, reply_.data() + got, reply_.size() - got, spin_ ? MSG_DONTWAIT : 0);
            if (n > 0) {
                got += static_cast<std::size_t>(n);
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                error_ = "the echo child went";
                return;
            }
        }
    }
    std::size_t payload_size() const { return frame_.size(); }
    std::string check() {
        (*this)();
        return error_;
    }

  private:
    child echo_;
    bool spin_;
    int fd_ = -1;
    std::array<char, 64> frame_{};
    std::array<char, 64> reply_{};
    std::string error_;
};

}  // namespace sim::bench
