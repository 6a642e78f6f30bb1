// Freezes the ABI 1.0 layout: a later change that moves, resizes or reorders a 1.0 member fails
// to compile. Appending members (1.1+) only grows sizeof, which the last block checks as ">=".
#include <gtest/gtest.h>
#include <plughost/abi.h>

#include <cstddef>

namespace {

constexpr size_t kPtr = sizeof(void*);
static_assert(kPtr == 8, "the frozen layout below is for LP64 targets");

#define AT(type, member, offset) \
  static_assert(offsetof(type, member) == (offset), #type "." #member " moved")

AT(ph_str, data, 0);
AT(ph_str, size, 8);
AT(ph_error, struct_size, 0);
AT(ph_error, message, 8);
AT(ph_error, message_capacity, 16);

AT(ph_route, struct_size, 0);
AT(ph_route, method, 8);
AT(ph_route, path, 16);
AT(ph_route, summary, 24);
AT(ph_route, permission, 32);
AT(ph_route, rate_class, 40);
AT(ph_route, request_schema, 48);
AT(ph_route, response_schema, 56);
AT(ph_route, handler, 64);
AT(ph_route, user_data, 72);

AT(ph_task_kind, struct_size, 0);
AT(ph_task_kind, name, 8);
AT(ph_task_kind, description, 16);
AT(ph_task_kind, handler, 24);
AT(ph_task_kind, user_data, 32);

AT(ph_connector, struct_size, 0);
AT(ph_connector, kind, 8);
AT(ph_connector, name, 16);
AT(ph_connector, description, 24);
AT(ph_connector, config_schema, 32);
AT(ph_connector, invoke, 40);
AT(ph_connector, user_data, 48);

AT(ph_plugin_descriptor, struct_size, 0);
AT(ph_plugin_descriptor, abi_major, 8);
AT(ph_plugin_descriptor, abi_minor, 12);
AT(ph_plugin_descriptor, name, 16);
AT(ph_plugin_descriptor, version, 24);
AT(ph_plugin_descriptor, description, 32);
AT(ph_plugin_descriptor, status, 40);
AT(ph_plugin_descriptor, config_schema, 48);
AT(ph_plugin_descriptor, init, 56);
AT(ph_plugin_descriptor, shutdown, 64);

// ph_host_api 1.0: header (size + two u32), then function pointers in this exact order.
#define API(member, index) AT(ph_host_api, member, 16 + (index)*kPtr)
AT(ph_host_api, struct_size, 0);
AT(ph_host_api, abi_major, 8);
AT(ph_host_api, abi_minor, 12);
API(register_route, 0);
API(register_task, 1);
API(register_connector, 2);
API(config_json, 3);
API(log, 4);
API(request_method, 5);
API(request_path, 6);
API(request_path_param, 7);
API(request_query_param, 8);
API(request_header, 9);
API(request_cookie, 10);
API(request_body, 11);
API(request_remote_address, 12);
API(request_trace_id, 13);
API(request_each_query_param, 14);
API(request_each_header, 15);
API(response_set_status, 16);
API(response_add_header, 17);
API(response_set_content_type, 18);
API(response_set_body, 19);
API(buffer_append, 20);
API(list_connectors, 21);
API(invoke_connector, 22);
API(buffer_new, 23);
API(buffer_view, 24);
API(buffer_free, 25);
constexpr size_t kHostApi10Size = 16 + 26 * kPtr;

// 1.3 appended the metrics group right after 1.2's last member: nothing before it moved.
static_assert(offsetof(ph_host_api, register_metric) == offsetof(ph_host_api, host_describe) + kPtr,
              "1.3 members must follow host_describe");
static_assert(offsetof(ph_host_api, metric_observe) ==
                  offsetof(ph_host_api, register_metric) + 3 * kPtr,
              "1.3 metrics group is four pointers");
AT(ph_metric, struct_size, 0);
AT(ph_metric, type, 8);
AT(ph_metric, name, 16);
AT(ph_metric, help, 24);
AT(ph_metric, label_names, 32);
AT(ph_metric, label_count, 40);
AT(ph_metric, buckets, 48);
AT(ph_metric, bucket_count, 56);

// 1.1's schedule struct, and 1.6's appended flag after it.
AT(ph_schedule, struct_size, 0);
AT(ph_schedule, name, 8);
AT(ph_schedule, cron, 16);
AT(ph_schedule, timezone, 24);
AT(ph_schedule, task_kind, 32);
AT(ph_schedule, payload_json, 40);
AT(ph_schedule, payload_with_due, 48);

// 1.6 appended schedules_replace right after 1.4's reconfigure handler.
static_assert(offsetof(ph_host_api, schedules_replace) ==
                  offsetof(ph_host_api, register_reconfigure_handler) + kPtr,
              "1.6 members must follow register_reconfigure_handler");

TEST(AbiLayout, VersionIsOneDotSomething) {
  EXPECT_EQ(PH_ABI_MAJOR, 1);
  EXPECT_GE(PH_ABI_MINOR, 0);
}

TEST(AbiLayout, StructsOnlyGrowAtTheEnd) {
  EXPECT_EQ(sizeof(ph_str), 16u);
  EXPECT_GE(sizeof(ph_error), 24u);
  EXPECT_GE(sizeof(ph_route), 80u);
  EXPECT_GE(sizeof(ph_task_kind), 40u);
  EXPECT_GE(sizeof(ph_connector), 56u);
  EXPECT_GE(sizeof(ph_plugin_descriptor), 72u);
  EXPECT_GE(sizeof(ph_host_api), kHostApi10Size);
}

TEST(AbiLayout, StatusCodesAreStable) {
  EXPECT_EQ(PH_OK, 0);
  EXPECT_EQ(PH_ERR_INVALID_ARGUMENT, 1);
  EXPECT_EQ(PH_ERR_NOT_FOUND, 2);
  EXPECT_EQ(PH_ERR_CONFLICT, 3);
  EXPECT_EQ(PH_ERR_WRONG_STATE, 4);
  EXPECT_EQ(PH_ERR_UNSUPPORTED, 5);
  EXPECT_EQ(PH_ERR_INTERNAL, 6);
  EXPECT_STREQ(PH_ENTRY_SYMBOL, "plughost_plugin_entry");
}

}  // namespace
