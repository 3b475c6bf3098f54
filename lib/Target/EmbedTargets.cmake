# Writes an .inc of the JSON files in TARGET_DIR (built-in targets, op-support
# tables): one {"name", R"json(...)json"} entry per file.
file(GLOB files ${TARGET_DIR}/*.json)
list(SORT files)
set(out "")
foreach(file ${files})
  get_filename_component(name ${file} NAME_WLE)
  file(READ ${file} content)
  string(APPEND out "{\"${name}\", R\"chorusjson(${content})chorusjson\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "${out}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUTPUT}.tmp ${OUTPUT})
