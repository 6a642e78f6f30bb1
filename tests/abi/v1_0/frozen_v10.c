/* The ABI 1.0 fixture: built once against abi.h 1.0 and committed as plughost_frozen_v10.so.
 * Every later 1.x host must load the committed binary unchanged (tests/abi/abi_layout_test.cpp
 * freezes the source layout; this freezes a real library). Rebuild it only if the committed
 * binary is lost, and only from the 1.0 header:
 *   cc -std=c99 -O2 -fPIC -shared -fvisibility=hidden -I<1.0 sdk/include> frozen_v10.c \
 *      -o plughost_frozen_v10.so -Wl,--version-script=<sdk/cmake/plugin.map> */
#include <plughost/abi.h>
#include <string.h>

static const ph_host_api* g_api;

static int hello(void* user_data, const ph_request* request, ph_response* response,
                 ph_error* err) {
  ph_str name = g_api->request_path_param(request, "name", 4);
  char body[128] = "frozen 1.0 says hello to ";
  size_t used = strlen(body);
  (void)user_data;
  (void)err;
  if (name.data && name.size < sizeof(body) - used) {
    memcpy(body + used, name.data, name.size);
    used += name.size;
  }
  g_api->response_set_content_type(response, "text/plain", 10);
  g_api->response_set_body(response, body, used);
  return PH_OK;
}

static int init(const ph_host_api* api, ph_host* host, void** state, ph_error* err) {
  ph_route route;
  memset(&route, 0, sizeof(route));
  route.struct_size = sizeof(route);
  route.method = "GET";
  route.path = "/api/frozen/:name";
  route.summary = "ABI 1.0 fixture";
  route.handler = hello;
  g_api = api;
  *state = NULL;
  return api->register_route(host, &route, err);
}

static void shutdown_plugin(void* state) { (void)state; }

PH_EXPORT const ph_plugin_descriptor* plughost_plugin_entry(void) {
  static const ph_plugin_descriptor d = {sizeof(ph_plugin_descriptor), 1, 0, "frozen_v10", "1.0.0",
                                         "Frozen ABI 1.0 fixture", "stable", NULL, init,
                                         shutdown_plugin};
  return &d;
}
