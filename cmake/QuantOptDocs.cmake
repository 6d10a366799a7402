# Reference docs generated from ODS and Passes.td (mlir-tblgen
# -gen-dialect-doc / -gen-pass-doc) into <build>/docs/reference/. Checked-in
# copies live in docs/reference/; scripts/check-docs.sh (and test/Docs) fail
# when they differ from what the build generates.
add_custom_target(quant-opt-doc)

# quant_opt_add_doc(<td file without .td> <output name> <tblgen args...>)
function(quant_opt_add_doc td_file output_name)
  add_mlir_doc(${td_file} ${output_name} reference/ ${ARGN})
  add_dependencies(quant-opt-doc ${output_name}DocGen)
endfunction()
