#pragma once
// A child process that runs beside the test (a container in another process): its standard
// output comes through a pipe, read line by line with a bound; it is killed if still running
// when the object goes.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace sim_test {

class child_process {
  public:
    explicit child_process(const std::vector<std::string>& argv) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        if (rc != 0) {
            ::close(fds[0]);
            throw std::runtime_error("posix_spawn failed for " + argv[0]);
        }
        out_ = fds[0];
        pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process() {
        if (!exited_) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        ::close(out_);
        if (pidfd_ >= 0) ::close(pidfd_);
    }

    /// The next line of its output (without the newline); throws if none comes within `bound`.
    std::string read_line(std::chrono::milliseconds bound = std::chrono::seconds(20)) {
        auto until = std::chrono::steady_clock::now() + bound;
        for (;;) {
            if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left.count() <= 0) throw std::runtime_error("the child printed no line in time");
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char buf[4096];
            ssize_t n = ::read(out_, buf, sizeof buf);
            if (n <= 0) throw std::runtime_error("the child closed its output: " + buffer_);
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
    }

    /// Waits for the child to exit (bounded); its exit status, or 128 + signal; -1 on timeout.
    int wait(std::chrono::milliseconds bound = std::chrono::seconds(20)) {
        if (exited_) return status_;
        if (pidfd_ >= 0) {
            pollfd p{pidfd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(bound.count())) <= 0) return -1;
        }
        int status = 0;
        if (::waitpid(pid_, &status, 0) != pid_) return -1;
        exited_ = true;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return status_;
    }

    pid_t pid() const noexcept { return pid_; }

  private:
    pid_t pid_ = -1;
    int out_ = -1;
    int pidfd_ = -1;
    std::string buffer_;
    bool exited_ = false;
    int status_ = -1;
};

}  // namespace sim_test
