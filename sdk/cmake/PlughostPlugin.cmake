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
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  elseif(DEFINED PLUGHOST_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${PLUGHOST_PLUGIN_OUTPUT_DIR}")
  endif()
endfunction()
