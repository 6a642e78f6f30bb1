// bench_body.hpp — the one response body both sides of the benchmark send.
#pragma once

constexpr const char kBenchBody[] = "{\"status\":\"ok\",\"service\":\"bench\"}";
