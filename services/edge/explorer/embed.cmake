# Compiles the explorer's files into C arrays, so the edge binary needs no
# data directory: run at build time (cmake -P) by services/edge/CMakeLists.txt
# whenever one of the files changes. CMake alone, no xxd.
#   cmake -DOUT=explorer_assets.c -DDIR=<explorer folder> -DFILES=index.html,app.js -P embed.cmake
# Each file gets its bytes and an ETag (the first 64 bits of its SHA-256,
# so a changed file is never answered 304 for its old tag).
set(body "/* Generated from services/edge/explorer/ by embed.cmake at build time: do not edit. */\n")
string(APPEND body "#include \"explorer_assets.h\"\n\n")
string(REPLACE "," ";" FILES "${FILES}")
# 16 bytes a line keeps the file readable (CMake's regex has no {16})
string(REPEAT "0x[0-9a-f][0-9a-f]," 16 line)
set(table "")
set(i 0)
foreach(name IN LISTS FILES)
  file(READ "${DIR}/${name}" hex HEX)
  file(SHA256 "${DIR}/${name}" sha)
  string(SUBSTRING "${sha}" 0 16 tag)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(${line})" "\\1\n    " bytes "${bytes}")
  string(APPEND body "static const unsigned char file${i}[${len}] = {\n    ${bytes}\n};\n")
  string(APPEND table "    {\"${name}\", file${i}, ${len}, \"\\\"${tag}\\\"\"},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "\nconst struct explorer_asset explorer_assets[] = {\n${table}};\n")
string(APPEND body "const size_t explorer_asset_count = ${i};\n")
# written only when it changed, so an unchanged set does not rebuild the edge
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL body)
  file(WRITE "${OUT}" "${body}")
endif()
