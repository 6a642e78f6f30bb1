# plughost_add_plugin(<name> SOURCES <src>... [SCHEMA <config.schema.json>] [LIBRARIES <lib>...]
#                     [OUTPUT_DIRECTORY <dir>])
#
# Builds plughost_<name>.so: a MODULE library against plughost::sdk with hidden visibility, a
# version script that exports only the entry symbol, and -Wl,--no-undefined so a missing symbol
# fails at link time rather than at load. SCHEMA embeds the plugin's JSON Schema in the library.
include_guard(GLOBAL)
set(_PLUGHOST_SDK_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}" CACHE INTERNAL "plughost SDK cmake dir")

function(plughost_add_plugin name)
  cmake_parse_arguments(ARG "" "SCHEMA;OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "plughost_add_plugin(${name}): SOURCES is required")
  endif()
  set(target plughost_${name})
  add_library(${target} MODULE ${ARG_SOURCES})

  if(ARG_SCHEMA)
    get_filename_component(schema "${ARG_SCHEMA}" ABSOLUTE)
    file(READ "${schema}" PLUGHOST_SCHEMA_TEXT)
    string(FIND "${PLUGHOST_SCHEMA_TEXT}" ")plughost_schema\"" clash)
    if(NOT clash EQUAL -1)
      message(FATAL_ERROR "${schema} contains the raw-string delimiter ')plughost_schema\"'")
    endif()
    set(generated "${CMAKE_CURRENT_BINARY_DIR}/${target}_schema.cpp")
    configure_file("${_PLUGHOST_SDK_CMAKE_DIR}/embedded_schema.cpp.in" "${generated}" @ONLY)
    target_sources(${target} PRIVATE "${generated}")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${schema}")
  endif()

  target_link_libraries(${target} PRIVATE plughost::sdk ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${target}
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${_PLUGHOST_SDK_CMAKE_DIR}/plugin.map")
  target_link_options(${target} PRIVATE
    "LINKER:--no-undefined"
    "LINKER:--version-script=${_PLUGHOST_SDK_CMAKE_DIR}/plugin.map")
  if(PLUGHOST_FUZZ)
    # clang links the sanitizer runtime into executables only: in the fuzz build a plugin's
    # __asan_*/__sanitizer_cov_* references are resolved by the fuzzer that loads it.
    target_link_options(${target} PRIVATE "LINKER:-z,undefs")
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    # Fixtures and test helpers: built where their tests look, never installed.
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  else()
    if(DEFINED PLUGHOST_PLUGIN_OUTPUT_DIR)
      set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${PLUGHOST_PLUGIN_OUTPUT_DIR}")
    endif()
    # Where the host looks by default: <prefix>/lib/plughost/plugins (not the multiarch libdir),
    # for the host's own plugins and for third-party ones installed into the host's prefix.
    install(TARGETS ${target} LIBRARY DESTINATION lib/plughost/plugins)
  endif()
endfunction()

# plughost_add_plugin_test(<name> PLUGIN <plugin name> SOURCES <test.cpp>... [LIBRARIES <lib>...])
#
# A GoogleTest executable for a plugin's tests, run by ctest. It compiles with plughost/testing.hpp
# (the real host binary on a generated config, an HTTP client over loopback) and these
# definitions: PLUGHOST_BIN (the in-tree `plughost` target, else `plughost` found on PATH) and
# PLUGHOST_TEST_PLUGIN_DIR (the directory the plugin's library is written to: use it as
# plugins_dir in the test's config).
function(plughost_add_plugin_test name)
  cmake_parse_arguments(ARG "" "PLUGIN" "SOURCES;LIBRARIES" ${ARGN})
  find_package(GTest REQUIRED)
  include(GoogleTest)
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE plughost::sdk GTest::gtest_main ${ARG_LIBRARIES})
  if(TARGET plughost)
    set(bin "$<TARGET_FILE:plughost>")
    add_dependencies(${name} plughost)
  else()
    find_program(PLUGHOST_EXECUTABLE plughost REQUIRED)
    set(bin "${PLUGHOST_EXECUTABLE}")
  endif()
  set(plugin_target plughost_${ARG_PLUGIN})
  add_dependencies(${name} ${plugin_target})
  target_compile_definitions(${name} PRIVATE
    PLUGHOST_BIN="${bin}"
    PLUGHOST_TEST_PLUGIN_DIR="$<TARGET_FILE_DIR:${plugin_target}>")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()
