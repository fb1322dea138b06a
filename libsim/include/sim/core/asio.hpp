#pragma once
/// The one place libsim includes Boost.Asio.
///
/// Boost 1.74's <boost/asio/awaitable.hpp> uses std::exchange without including <utility>, which
/// GCC 12 in C++20 mode rejects; including <utility> first fixes it for every user of Asio.

#include <utility>

#include <boost/asio.hpp>
