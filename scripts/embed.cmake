# cmake -DOUT=file.cpp -DINPUTS=a,b -DNAMES=x,y -P embed.cmake
# Writes each input file as a raw string constant pm::bot::embedded::<name>.
string(REPLACE "," ";" inputs "${INPUTS}")
string(REPLACE "," ";" names "${NAMES}")
set(body "// Generated from config/ at build time; do not edit.\nnamespace pm::bot::embedded {\n")
foreach(input name IN ZIP_LISTS inputs names)
  file(READ "${input}" content)
  string(APPEND body "extern const char* const ${name};\nconst char* const ${name} = R\"pmembed(${content})pmembed\";\n")
endforeach()
string(APPEND body "}\n")
file(WRITE "${OUT}" "${body}")
