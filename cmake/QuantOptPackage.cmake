# The installable package: `cmake --install <build> --prefix P` puts the
# headers, libraries, tools and plugins under P with a CMake package config,
# P/lib/cmake/QuantOpt/QuantOptConfig.cmake, exporting them as QuantOpt::<name>.
#
# AddLLVM/AddMLIR would install every library into LLVM's and MLIR's own export
# sets (LLVMExports, MLIRTargets), which an out-of-tree project must not
# extend. LLVM_INSTALL_TOOLCHAIN_ONLY turns their per-target install rules
# off; quant_opt_install_package() then installs what lib/, runtime/, plugins/
# and tools/ define into one export set, QuantOptTargets.

include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LLVM_INSTALL_TOOLCHAIN_ONLY ON)
# Installed tools and libraries find libMLIR.so where MLIR is, not only next
# to themselves (AddLLVM's default, $ORIGIN/../lib, is for LLVM's own tree).
set(CMAKE_INSTALL_RPATH "\$ORIGIN/../${CMAKE_INSTALL_LIBDIR}" ${LLVM_LIBRARY_DIR})
# Tools are installed, so `all` builds them (AddLLVM leaves them out otherwise).
set(LLVM_BUILD_TOOLS ON)

set(QUANT_OPT_INSTALL_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/QuantOpt)

# Appends to `out` the libraries and executables defined in `dir` and below,
# skipping object libraries (obj.X, the halves of AddMLIR's libraries) and
# the directories in `skip`.
function(_qopt_collect_targets dir skip out)
  set(found ${${out}})
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|EXECUTABLE)$")
      list(APPEND found ${target})
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    if(NOT subdir IN_LIST skip)
      _qopt_collect_targets(${subdir} "${skip}" found)
    endif()
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

function(quant_opt_install_package)
  set(targets)
  foreach(dir lib runtime plugins tools)
    _qopt_collect_targets(${PROJECT_SOURCE_DIR}/${dir}
      "${PROJECT_SOURCE_DIR}/tools/fuzzers" targets)
  endforeach()

  # AddMLIR's libraries get their include paths from include_directories();
  # consumers get the installed ones, and MLIR's from QuantOptConfig.cmake.
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type MATCHES "LIBRARY" AND NOT type STREQUAL "MODULE_LIBRARY")
      target_include_directories(${target} INTERFACE
        $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    endif()
  endforeach()

  install(TARGETS ${targets} EXPORT QuantOptTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(EXPORT QuantOptTargets NAMESPACE QuantOpt::
    DESTINATION ${QUANT_OPT_INSTALL_PACKAGE_DIR})

  # Headers: the sources', the generated .inc next to them, the runtime's and
  # (when present) the C API's.
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/quant-opt
                    ${PROJECT_BINARY_DIR}/include/quant-opt
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h" PATTERN "*.inc" PATTERN "*.def" PATTERN "*.td"
    PATTERN "CMakeFiles" EXCLUDE)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/quant-opt-runtime
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  if(EXISTS ${PROJECT_SOURCE_DIR}/include/quant-opt-c)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/quant-opt-c
      DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()

  set(QUANT_OPT_EXPORTED_TARGETS ${targets})
  configure_package_config_file(
    ${PROJECT_SOURCE_DIR}/cmake/QuantOptConfig.cmake.in
    ${PROJECT_BINARY_DIR}/${QUANT_OPT_INSTALL_PACKAGE_DIR}/QuantOptConfig.cmake
    INSTALL_DESTINATION ${QUANT_OPT_INSTALL_PACKAGE_DIR}
    PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_BINDIR
              CMAKE_INSTALL_LIBDIR)
  write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/${QUANT_OPT_INSTALL_PACKAGE_DIR}/QuantOptConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
  install(FILES
    ${PROJECT_BINARY_DIR}/${QUANT_OPT_INSTALL_PACKAGE_DIR}/QuantOptConfig.cmake
    ${PROJECT_BINARY_DIR}/${QUANT_OPT_INSTALL_PACKAGE_DIR}/QuantOptConfigVersion.cmake
    ${PROJECT_SOURCE_DIR}/cmake/FindQOptLAPACKE.cmake
    DESTINATION ${QUANT_OPT_INSTALL_PACKAGE_DIR})
endfunction()
