// service_api.hpp — the 1.1 members of ph_host_api: storage, migrations and tasks.
#pragma once

#include <plughost/abi.h>

namespace plughost {

void fill_service_api(ph_host_api& table);

}  // namespace plughost
