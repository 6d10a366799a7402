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

# The qopt-ptq recipes, from the one recipe table as quant-opt prints it.
set(QUANT_OPT_PYTHON /usr/bin/python3 CACHE FILEPATH
    "Python 3 for the doc generators (Debian's)")
set(QUANT_OPT_RECIPES_DOC ${MLIR_BINARY_DIR}/docs/reference/Recipes.md)
add_custom_command(OUTPUT ${QUANT_OPT_RECIPES_DOC}
  COMMAND ${QUANT_OPT_PYTHON} ${PROJECT_SOURCE_DIR}/scripts/gen-recipe-doc.py
          --quant-opt $<TARGET_FILE:quant-opt> -o ${QUANT_OPT_RECIPES_DOC}
  DEPENDS quant-opt ${PROJECT_SOURCE_DIR}/scripts/gen-recipe-doc.py
  COMMENT "Generating docs/reference/Recipes.md")
add_custom_target(QOptRecipesDocGen DEPENDS ${QUANT_OPT_RECIPES_DOC})
add_dependencies(quant-opt-doc QOptRecipesDocGen)
