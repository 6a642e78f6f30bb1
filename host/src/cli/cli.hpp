// cli.hpp — the `plughost` command line: run, check, plugins, routes, version.
// Exit codes for every verb: 0 ok, 1 invalid config or failed start, 2 usage error.
#pragma once

namespace plughost {

int run_cli(int argc, char** argv);

}  // namespace plughost
