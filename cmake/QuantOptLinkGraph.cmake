# Writes the project's CMake target graph -- each target's type, the folder
# whose CMakeLists.txt declares it, the sources it compiles and the libraries
# it links -- as JSON, for the layering check (scripts/check-layering.py,
# test/Layering) into <build>/layering/targets.json, once the top-level
# CMakeLists.txt has added every subdirectory.

function(_quant_opt_collect_targets dir out)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    _quant_opt_collect_targets("${subdir}" sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

# A JSON array of strings from a CMake list.
function(_quant_opt_json_array out)
  set(json "[]")
  set(index 0)
  foreach(item IN LISTS ARGN)
    string(REPLACE "\\" "\\\\" item "${item}")
    string(REPLACE "\"" "\\\"" item "${item}")
    string(JSON json SET "${json}" ${index} "\"${item}\"")
    math(EXPR index "${index} + 1")
  endforeach()
  set(${out} "${json}" PARENT_SCOPE)
endfunction()

function(quant_opt_write_link_graph path)
  _quant_opt_collect_targets("${PROJECT_SOURCE_DIR}" targets)
  set(json "{}")
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(NOT type MATCHES "LIBRARY$|EXECUTABLE")
      continue() # tablegen, docs, lit and other custom targets
    endif()
    get_target_property(source_dir ${target} SOURCE_DIR)
    set(sources)
    set(links)
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(sources ${target} SOURCES)
      get_target_property(links ${target} LINK_LIBRARIES)
    endif()
    get_target_property(interface_links ${target} INTERFACE_LINK_LIBRARIES)
    foreach(var sources links interface_links)
      if(NOT ${var})
        set(${var})
      endif()
    endforeach()
    _quant_opt_json_array(sources_json ${sources})
    _quant_opt_json_array(links_json ${links} ${interface_links})
    string(JSON json SET "${json}" "${target}"
           "{\"type\": \"${type}\", \"source_dir\": \"${source_dir}\"}")
    string(JSON json SET "${json}" "${target}" sources "${sources_json}")
    string(JSON json SET "${json}" "${target}" links "${links_json}")
  endforeach()
  file(WRITE "${path}" "${json}\n")
endfunction()

cmake_language(DEFER DIRECTORY "${PROJECT_SOURCE_DIR}" CALL
               quant_opt_write_link_graph
               "${PROJECT_BINARY_DIR}/layering/targets.json")
