// support.hpp — the host's integration tests use the SDK's test support (plughost/testing.hpp):
// the real binary started on a generated config, and an HTTP/1.1 client over loopback.
#pragma once

#include <plughost/testing.hpp>

namespace itest {
using namespace plughost::testing;
}  // namespace itest
