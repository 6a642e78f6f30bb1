// host_api.hpp — the one ph_host_api table handed to every plugin's init.
#pragma once

#include <plughost/abi.h>

namespace plughost {

// A table with static storage duration; every member is implemented.
const ph_host_api* host_api_table();

}  // namespace plughost
