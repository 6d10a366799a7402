# Finds LAPACKE and the OpenBLAS it runs on (Debian: liblapacke-dev,
# libopenblas-dev) for QOptAlgorithms' GPTQ, and defines the imported target
# QOptLAPACKE::LAPACKE. Installed with the package so that QuantOptConfig.cmake
# finds them for consumers the same way the build did.
find_library(QOPT_OPENBLAS_LIBRARY NAMES openblas)
find_library(QOPT_LAPACKE_LIBRARY NAMES lapacke)
find_path(QOPT_LAPACKE_INCLUDE_DIR lapacke.h)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(QOptLAPACKE REQUIRED_VARS
  QOPT_LAPACKE_LIBRARY QOPT_OPENBLAS_LIBRARY QOPT_LAPACKE_INCLUDE_DIR)

if(QOptLAPACKE_FOUND AND NOT TARGET QOptLAPACKE::LAPACKE)
  add_library(QOptLAPACKE::LAPACKE INTERFACE IMPORTED)
  set_target_properties(QOptLAPACKE::LAPACKE PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${QOPT_LAPACKE_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${QOPT_LAPACKE_LIBRARY};${QOPT_OPENBLAS_LIBRARY}")
endif()
